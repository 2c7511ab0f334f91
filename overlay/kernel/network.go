package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NetworkConfig describes one overlay network on this node.
type NetworkConfig struct {
	ID        string       // network ID
	VNI       uint32       // VXLAN network identifier, 1..2^24-1
	Subnet    netip.Prefix // 10.0.1.0/24
	Gateway   netip.Addr   // 10.0.1.1, on the bridge
	LocalVTEP netip.Addr   // this node's data-path address (VXLAN source); invalid (zero) for any
	Port      uint16       // VXLAN UDP port; 0 means DefaultPort (4789)
}

func (c NetworkConfig) validate() error {
	switch {
	case c.ID == "":
		return errors.New("empty network ID")
	case c.VNI == 0 || c.VNI >= 1<<24:
		return fmt.Errorf("VNI %d out of range", c.VNI)
	case !c.Subnet.IsValid() || !c.Subnet.Addr().Is4():
		return fmt.Errorf("invalid IPv4 subnet %v", c.Subnet)
	case !c.Gateway.IsValid() || !c.Subnet.Contains(c.Gateway):
		return fmt.Errorf("gateway %v not in subnet %v", c.Gateway, c.Subnet)
	case c.LocalVTEP.IsValid() && !c.LocalVTEP.Is4():
		return fmt.Errorf("local VTEP %v is not IPv4", c.LocalVTEP)
	}
	return nil
}

// EnsureNetwork makes (or completes) the netns of the network, <dir>/ov-<id[:12]>, with bridge
// br0 up holding Gateway/<subnet bits>, and VXLAN device vx-<vni> (made in the host netns, so
// its UDP socket lives there, then moved in) enslaved to br0, learning off, ARP proxy on,
// MTU 1450, up. A VXLAN device of other parameters is replaced.
func (k *Kernel) EnsureNetwork(cfg NetworkConfig) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("kernel: ensure network %s: %w", cfg.ID, err)
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	path, err := k.newNetNS(networkNSName(cfg.ID))
	if err != nil {
		return fmt.Errorf("kernel: ensure network %s: %w", cfg.ID, err)
	}
	err = withNS(path, func(h *netlink.Handle, ns netns.NsHandle) error {
		gw := netip.PrefixFrom(cfg.Gateway, cfg.Subnet.Bits())
		br, err := ensureBridge(h, bridgeInNetNS, gw, OverlayMTU)
		if err != nil {
			return err
		}
		vx, err := k.ensureVxlan(h, ns, cfg)
		if err != nil {
			return err
		}
		if vx.Attrs().MasterIndex != br.Attrs().Index {
			if err := h.LinkSetMaster(vx, br); err != nil {
				return fmt.Errorf("enslave %s to %s: %w", vx.Attrs().Name, bridgeInNetNS, err)
			}
		}
		if err := h.LinkSetUp(vx); err != nil {
			return fmt.Errorf("set %s up: %w", vx.Attrs().Name, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("kernel: ensure network %s: %w", cfg.ID, err)
	}
	return nil
}

// ensureVxlan returns the network's VXLAN device in the netns of h (ns), making it when missing
// or different from cfg.
func (k *Kernel) ensureVxlan(h *netlink.Handle, ns netns.NsHandle, cfg NetworkConfig) (netlink.Link, error) {
	name := vxlanName(cfg.VNI)
	want := &netlink.Vxlan{
		LinkAttrs: netlink.LinkAttrs{Name: name, MTU: OverlayMTU, TxQLen: -1, NetNsID: -1},
		VxlanId:   int(cfg.VNI),
		Port:      int(cfg.Port),
		Learning:  false,
		Proxy:     true,
	}
	if cfg.LocalVTEP.IsValid() {
		want.SrcAddr = net.IP(cfg.LocalVTEP.AsSlice())
	}
	// Any other vx-* device in the network's netns is of an earlier VNI: remove it.
	links, err := h.LinkList()
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		vx, ok := l.(*netlink.Vxlan)
		if !ok {
			continue
		}
		if vx.Name == name && sameVxlan(vx, want) {
			if vx.MTU != OverlayMTU {
				if err := h.LinkSetMTU(vx, OverlayMTU); err != nil {
					return nil, fmt.Errorf("set %s MTU: %w", name, err)
				}
			}
			return vx, nil
		}
		if err := h.LinkDel(vx); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("delete stale %s: %w", vx.Name, err)
		}
	}
	// A device of that name left in the host netns by an interrupted call.
	if old, err := k.host.LinkByName(name); err == nil {
		if _, ok := old.(*netlink.Vxlan); !ok {
			return nil, fmt.Errorf("%s exists in the host netns and is not a vxlan device", name)
		}
		if err := k.host.LinkDel(old); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("delete stale %s in the host netns: %w", name, err)
		}
	}
	if err := k.host.LinkAdd(want); err != nil {
		return nil, fmt.Errorf("add vxlan %s (vni %d, port %d) in the host netns: %w", name, cfg.VNI, cfg.Port, err)
	}
	made, err := k.host.LinkByName(name)
	if err == nil {
		err = k.host.LinkSetNsFd(made, int(ns))
	}
	if err != nil {
		if made != nil {
			k.host.LinkDel(made)
		}
		return nil, fmt.Errorf("move %s into the network's netns: %w", name, err)
	}
	vx, err := h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("find %s after the move: %w", name, err)
	}
	return vx, nil
}

func sameVxlan(got, want *netlink.Vxlan) bool {
	srcEqual := (len(want.SrcAddr) == 0 && (len(got.SrcAddr) == 0 || got.SrcAddr.IsUnspecified())) ||
		want.SrcAddr.Equal(got.SrcAddr)
	return got.VxlanId == want.VxlanId && got.Port == want.Port && got.Learning == want.Learning &&
		got.Proxy == want.Proxy && srcEqual
}

// RemoveNetwork deletes the network's interfaces (its VXLAN device, bridge and the veth pairs of
// attached containers) and its netns. A missing network is not an error.
func (k *Kernel) RemoveNetwork(id string) error {
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	path := k.NetworkNS(id)
	if isNetNS(path) {
		if err := deleteLinksIn(path); err != nil {
			return fmt.Errorf("kernel: remove network %s: %w", id, err)
		}
	}
	if err := removeNetNS(path); err != nil {
		return fmt.Errorf("kernel: remove network %s: %w", id, err)
	}
	return nil
}

// ensureBridge makes bridge name in the netns of h when missing, gives it exactly the IPv4
// address addr, sets mtu when > 0, and sets it up.
func ensureBridge(h *netlink.Handle, name string, addr netip.Prefix, mtu int) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	switch {
	case isNotFound(err):
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		attrs.MTU = mtu
		if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
			return nil, fmt.Errorf("add bridge %s: %w", name, err)
		}
		if l, err = h.LinkByName(name); err != nil {
			return nil, fmt.Errorf("find bridge %s: %w", name, err)
		}
	case err != nil:
		return nil, fmt.Errorf("find bridge %s: %w", name, err)
	}
	if _, ok := l.(*netlink.Bridge); !ok {
		return nil, fmt.Errorf("%s exists and is a %s, not a bridge", name, l.Type())
	}
	if err := setOnlyAddr(h, l, addr); err != nil {
		return nil, err
	}
	if mtu > 0 && l.Attrs().MTU != mtu {
		if err := h.LinkSetMTU(l, mtu); err != nil {
			return nil, fmt.Errorf("set %s MTU %d: %w", name, mtu, err)
		}
	}
	if err := h.LinkSetUp(l); err != nil {
		return nil, fmt.Errorf("set %s up: %w", name, err)
	}
	return l, nil
}

// setOnlyAddr makes addr the only IPv4 address of l.
func setOnlyAddr(h *netlink.Handle, l netlink.Link, addr netip.Prefix) error {
	name := l.Attrs().Name
	have, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list addresses of %s: %w", name, err)
	}
	found := false
	for _, a := range have {
		ones, _ := a.Mask.Size()
		ip, _ := netip.AddrFromSlice(a.IP.To4())
		if ip == addr.Addr() && ones == addr.Bits() {
			found = true
			continue
		}
		if err := h.AddrDel(l, &a); err != nil {
			return fmt.Errorf("delete address %v from %s: %w", a.IPNet, name, err)
		}
	}
	if found {
		return nil
	}
	nlAddr := &netlink.Addr{IPNet: &net.IPNet{
		IP:   net.IP(addr.Addr().AsSlice()),
		Mask: net.CIDRMask(addr.Bits(), 32),
	}}
	if err := h.AddrReplace(l, nlAddr); err != nil {
		return fmt.Errorf("add address %v to %s: %w", addr, name, err)
	}
	return nil
}
