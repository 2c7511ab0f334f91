package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Peer is an endpoint of an overlay network on another node.
type Peer struct {
	IP   netip.Addr       // the endpoint's address on the network
	MAC  net.HardwareAddr // its MAC; nil means MACFor(IP)
	VTEP netip.Addr       // the data-path address of its node
}

// MACFor returns the MAC address of the interface holding ip: 02:42 and the four bytes of ip, as
// Docker. It returns nil for an address that is not IPv4.
func MACFor(ip netip.Addr) net.HardwareAddr {
	ip = ip.Unmap()
	if !ip.Is4() {
		return nil
	}
	b := ip.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// SetPeers makes peers the whole set of remote endpoints of network id: for each, a permanent
// neighbour entry IP -> MAC (answered by the VXLAN device's ARP proxy) and a permanent fdb entry
// MAC -> VTEP on the VXLAN device. Entries of endpoints not in peers are deleted.
func (k *Kernel) SetPeers(id string, peers []Peer) error {
	neighs := map[netip.Addr]net.HardwareAddr{}
	fdb := map[string]netip.Addr{} // MAC string -> VTEP
	for _, p := range peers {
		mac := p.MAC
		if mac == nil {
			mac = MACFor(p.IP)
		}
		if !p.IP.Unmap().Is4() || !p.VTEP.Unmap().Is4() || len(mac) != 6 {
			return fmt.Errorf("kernel: set peers of network %s: invalid peer %v (MAC %v, VTEP %v)", id, p.IP, mac, p.VTEP)
		}
		neighs[p.IP.Unmap()] = mac
		fdb[mac.String()] = p.VTEP.Unmap()
	}
	if err := k.lock(); err != nil {
		return err
	}
	defer k.mu.Unlock()
	path := k.NetworkNS(id)
	if !isNetNS(path) {
		return fmt.Errorf("kernel: set peers of network %s: no netns %s (EnsureNetwork first)", id, path)
	}
	err := withNS(path, func(h *netlink.Handle, _ netns.NsHandle) error {
		vx, err := findVxlan(h)
		if err != nil {
			return err
		}
		return syncPeers(h, vx.Attrs().Index, neighs, fdb)
	})
	if err != nil {
		return fmt.Errorf("kernel: set peers of network %s: %w", id, err)
	}
	return nil
}

func findVxlan(h *netlink.Handle) (netlink.Link, error) {
	links, err := h.LinkList()
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		if _, ok := l.(*netlink.Vxlan); ok && strings.HasPrefix(l.Attrs().Name, vxlanPrefix) {
			return l, nil
		}
	}
	return nil, errors.New("no vxlan device (EnsureNetwork first)")
}

func syncPeers(h *netlink.Handle, vx int, neighs map[netip.Addr]net.HardwareAddr, fdb map[string]netip.Addr) error {
	// Delete what is not wanted.
	have, err := h.NeighList(vx, netlink.FAMILY_V4)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list neighbours: %w", err)
	}
	for _, n := range have {
		ip, _ := netip.AddrFromSlice(n.IP.To4())
		if mac, ok := neighs[ip]; ok && n.State&netlink.NUD_PERMANENT != 0 && n.HardwareAddr.String() == mac.String() {
			delete(neighs, ip) // already there
			continue
		}
		if err := h.NeighDel(&n); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete neighbour %v: %w", n.IP, err)
		}
	}
	entries, err := h.NeighList(vx, unix.AF_BRIDGE)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list fdb: %w", err)
	}
	for _, n := range entries {
		if n.Flags&netlink.NTF_SELF == 0 || n.IP == nil {
			continue // the bridge's entries for the port, not the VXLAN device's own
		}
		vtep, _ := netip.AddrFromSlice(n.IP.To4())
		if want, ok := fdb[n.HardwareAddr.String()]; ok && want == vtep && n.State&netlink.NUD_PERMANENT != 0 {
			delete(fdb, n.HardwareAddr.String())
			continue
		}
		if err := h.NeighDel(&n); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete fdb entry %v -> %v: %w", n.HardwareAddr, n.IP, err)
		}
	}
	// Add what is missing.
	for mac, vtep := range fdb {
		hw, _ := net.ParseMAC(mac)
		n := &netlink.Neigh{
			LinkIndex:    vx,
			Family:       unix.AF_BRIDGE,
			Flags:        netlink.NTF_SELF,
			State:        netlink.NUD_PERMANENT,
			IP:           net.IP(vtep.AsSlice()),
			HardwareAddr: hw,
		}
		if err := h.NeighSet(n); err != nil {
			return fmt.Errorf("add fdb entry %v -> %v: %w", hw, vtep, err)
		}
	}
	for ip, mac := range neighs {
		n := &netlink.Neigh{
			LinkIndex:    vx,
			Family:       netlink.FAMILY_V4,
			State:        netlink.NUD_PERMANENT,
			IP:           net.IP(ip.AsSlice()),
			HardwareAddr: mac,
		}
		if err := h.NeighSet(n); err != nil {
			return fmt.Errorf("add neighbour %v -> %v: %w", ip, mac, err)
		}
	}
	return nil
}
