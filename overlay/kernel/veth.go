package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// AttachContainer connects the netns at nsPath to network netID with a veth pair: the container
// end is ifName, with addr, MAC MACFor(addr), MTU 1450, up; the other end, ve-<hash of netID,
// nsPath, ifName>, is in the network's netns, enslaved to br0, up. An existing pair is kept and
// brought to that state.
func (k *Kernel) AttachContainer(netID, nsPath, ifName string, addr netip.Prefix) error {
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	netPath := k.NetworkNS(netID)
	if !isNetNS(netPath) {
		return fmt.Errorf("kernel: attach %s %s to network %s: no netns %s (EnsureNetwork first)", nsPath, ifName, netID, netPath)
	}
	err := withNS(netPath, func(h *netlink.Handle, _ netns.NsHandle) error {
		return attach(h, vethSpec{
			bridge:   bridgeInNetNS,
			hostName: overlayVethName(netID, nsPath, ifName),
			nsPath:   nsPath,
			ifName:   ifName,
			addr:     addr,
			mtu:      OverlayMTU,
		})
	})
	if err != nil {
		return fmt.Errorf("kernel: attach %s %s to network %s: %w", nsPath, ifName, netID, err)
	}
	return nil
}

// DetachContainer deletes the veth pair AttachContainer made. Missing pieces are not an error.
func (k *Kernel) DetachContainer(netID, nsPath, ifName string) error {
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	var errs []error
	if netPath := k.NetworkNS(netID); isNetNS(netPath) {
		errs = append(errs, withNS(netPath, func(h *netlink.Handle, _ netns.NsHandle) error {
			return deleteVeth(h, overlayVethName(netID, nsPath, ifName))
		}))
	}
	errs = append(errs, deleteContainerEnd(nsPath, ifName))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kernel: detach %s %s from network %s: %w", nsPath, ifName, netID, err)
	}
	return nil
}

// EnsureBridge makes bridge name in the host netns with exactly the address addr (the gateway of
// the bridge's subnet, e.g. 172.18.0.1/16 on shoal_gwbridge), up.
func (k *Kernel) EnsureBridge(name string, addr netip.Prefix) error {
	if err := checkIfName(name); err != nil {
		return fmt.Errorf("kernel: ensure bridge: %w", err)
	}
	if !addr.IsValid() || !addr.Addr().Is4() {
		return fmt.Errorf("kernel: ensure bridge %s: invalid IPv4 address %v", name, addr)
	}
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	if _, err := ensureBridge(k.host, name, addr, 0); err != nil {
		return fmt.Errorf("kernel: ensure bridge %s: %w", name, err)
	}
	return nil
}

// RemoveBridge deletes bridge name from the host netns; a missing one is not an error.
func (k *Kernel) RemoveBridge(name string) error {
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	l, err := k.host.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kernel: remove bridge %s: %w", name, err)
	}
	if _, ok := l.(*netlink.Bridge); !ok {
		return fmt.Errorf("kernel: remove bridge %s: it is a %s, not a bridge", name, l.Type())
	}
	if err := k.host.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("kernel: remove bridge %s: %w", name, err)
	}
	return nil
}

// AttachToBridge connects the netns at nsPath to bridge (in the host netns) with a veth pair: the
// container end is ifName with addr, MAC MACFor(addr), up, and, when gw is valid, the default
// route via gw; the other end, ve-<hash of nsPath, ifName>, is in the host netns, enslaved to
// bridge, up. An existing pair is kept and brought to that state.
func (k *Kernel) AttachToBridge(bridge, nsPath, ifName string, addr netip.Prefix, gw netip.Addr) error {
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	err := attach(k.host, vethSpec{
		bridge:   bridge,
		hostName: bridgeVethName(nsPath, ifName),
		nsPath:   nsPath,
		ifName:   ifName,
		addr:     addr,
		gw:       gw,
	})
	if err != nil {
		return fmt.Errorf("kernel: attach %s %s to bridge %s: %w", nsPath, ifName, bridge, err)
	}
	return nil
}

// DetachFromBridge deletes the veth pair AttachToBridge made. Missing pieces are not an error.
func (k *Kernel) DetachFromBridge(nsPath, ifName string) error {
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	err := errors.Join(
		deleteVeth(k.host, bridgeVethName(nsPath, ifName)),
		deleteContainerEnd(nsPath, ifName),
	)
	if err != nil {
		return fmt.Errorf("kernel: detach %s %s from its bridge: %w", nsPath, ifName, err)
	}
	return nil
}

func overlayVethName(netID, nsPath, ifName string) string {
	return vethName("overlay", netID, filepath.Clean(nsPath), ifName)
}

func bridgeVethName(nsPath, ifName string) string {
	return vethName("bridge", filepath.Clean(nsPath), ifName)
}

// vethSpec is a veth pair from a container netns to a bridge.
type vethSpec struct {
	bridge   string // in the netns of the handle given to attach
	hostName string // the bridge-side end
	nsPath   string // the container's netns
	ifName   string // the container-side end
	addr     netip.Prefix
	gw       netip.Addr // default route of the container end, when valid
	mtu      int        // 0: the kernel's default
}

func checkIfName(name string) error {
	if name == "" || len(name) > 15 {
		return fmt.Errorf("invalid interface name %q (1 to 15 characters)", name)
	}
	return nil
}

// attach makes the veth pair of s with h a handle in the bridge's netns.
func attach(h *netlink.Handle, s vethSpec) error {
	if err := checkIfName(s.ifName); err != nil {
		return err
	}
	if !s.addr.IsValid() || !s.addr.Addr().Is4() {
		return fmt.Errorf("invalid IPv4 address %v", s.addr)
	}
	if s.gw.IsValid() && !s.addr.Contains(s.gw) {
		return fmt.Errorf("gateway %v not in %v", s.gw, s.addr.Masked())
	}
	br, err := h.LinkByName(s.bridge)
	if err != nil {
		return fmt.Errorf("find bridge %s: %w", s.bridge, err)
	}
	if _, ok := br.(*netlink.Bridge); !ok {
		return fmt.Errorf("%s is a %s, not a bridge", s.bridge, br.Type())
	}
	mac := MACFor(s.addr.Addr())
	return withNS(s.nsPath, func(ch *netlink.Handle, cns netns.NsHandle) error {
		host, ctr, err := ensureVethPair(h, ch, cns, s, mac)
		if err != nil {
			return err
		}
		// The container end.
		if ctr.Attrs().HardwareAddr.String() != mac.String() {
			if err := ch.LinkSetDown(ctr); err != nil {
				return fmt.Errorf("set %s down: %w", s.ifName, err)
			}
			if err := ch.LinkSetHardwareAddr(ctr, mac); err != nil {
				return fmt.Errorf("set %s MAC %v: %w", s.ifName, mac, err)
			}
		}
		if s.mtu > 0 && ctr.Attrs().MTU != s.mtu {
			if err := ch.LinkSetMTU(ctr, s.mtu); err != nil {
				return fmt.Errorf("set %s MTU: %w", s.ifName, err)
			}
		}
		if err := setOnlyAddr(ch, ctr, s.addr); err != nil {
			return err
		}
		if err := ch.LinkSetUp(ctr); err != nil {
			return fmt.Errorf("set %s up: %w", s.ifName, err)
		}
		if s.gw.IsValid() {
			route := &netlink.Route{LinkIndex: ctr.Attrs().Index, Gw: net.IP(s.gw.AsSlice())}
			if err := ch.RouteReplace(route); err != nil {
				return fmt.Errorf("default route via %v on %s: %w", s.gw, s.ifName, err)
			}
		}
		// The bridge end.
		if s.mtu > 0 && host.Attrs().MTU != s.mtu {
			if err := h.LinkSetMTU(host, s.mtu); err != nil {
				return fmt.Errorf("set %s MTU: %w", s.hostName, err)
			}
		}
		if host.Attrs().MasterIndex != br.Attrs().Index {
			if err := h.LinkSetMaster(host, br); err != nil {
				return fmt.Errorf("enslave %s to %s: %w", s.hostName, s.bridge, err)
			}
		}
		if err := h.LinkSetUp(host); err != nil {
			return fmt.Errorf("set %s up: %w", s.hostName, err)
		}
		return nil
	})
}

// ensureVethPair returns the two ends of the pair of s, making it when either end is missing (an
// orphan end is deleted first). The pair is made in one request, each end created directly in
// its netns, so the container end's name never meets the bridge netns's names.
func ensureVethPair(h, ch *netlink.Handle, cns netns.NsHandle, s vethSpec, mac net.HardwareAddr) (host, ctr netlink.Link, err error) {
	host, hostErr := h.LinkByName(s.hostName)
	ctr, ctrErr := ch.LinkByName(s.ifName)
	if hostErr != nil && !isNotFound(hostErr) {
		return nil, nil, fmt.Errorf("find %s: %w", s.hostName, hostErr)
	}
	if ctrErr != nil && !isNotFound(ctrErr) {
		return nil, nil, fmt.Errorf("find %s in %s: %w", s.ifName, s.nsPath, ctrErr)
	}
	if ctrErr == nil {
		if _, ok := ctr.(*netlink.Veth); !ok {
			return nil, nil, fmt.Errorf("%s exists in %s and is a %s, not a veth", s.ifName, s.nsPath, ctr.Type())
		}
	}
	if hostErr == nil && ctrErr == nil {
		return host, ctr, nil
	}
	if hostErr == nil {
		if err := deleteVeth(h, s.hostName); err != nil {
			return nil, nil, err
		}
	}
	if ctrErr == nil {
		if err := ch.LinkDel(ctr); err != nil && !isNotFound(err) {
			return nil, nil, fmt.Errorf("delete orphan %s in %s: %w", s.ifName, s.nsPath, err)
		}
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = s.hostName
	attrs.MTU = s.mtu
	veth := netlink.NewVeth(attrs)
	veth.PeerName = s.ifName
	veth.PeerHardwareAddr = mac
	veth.PeerNamespace = netlink.NsFd(cns)
	if err := h.LinkAdd(veth); err != nil {
		return nil, nil, fmt.Errorf("add veth %s <-> %s in %s: %w", s.hostName, s.ifName, s.nsPath, err)
	}
	if host, err = h.LinkByName(s.hostName); err != nil {
		return nil, nil, fmt.Errorf("find %s: %w", s.hostName, err)
	}
	if ctr, err = ch.LinkByName(s.ifName); err != nil {
		return nil, nil, fmt.Errorf("find %s in %s: %w", s.ifName, s.nsPath, err)
	}
	return host, ctr, nil
}

// deleteVeth deletes the veth name (and so its peer) in the netns of h, if there.
func deleteVeth(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if _, ok := l.(*netlink.Veth); !ok {
		return fmt.Errorf("%s is a %s, not a veth", name, l.Type())
	}
	if err := h.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// deleteContainerEnd deletes the veth ifName in the netns at nsPath, if both are there.
func deleteContainerEnd(nsPath, ifName string) error {
	if !isNetNS(nsPath) {
		return nil
	}
	return withNS(nsPath, func(h *netlink.Handle, _ netns.NsHandle) error {
		return deleteVeth(h, ifName)
	})
}
