package lb

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Conntrack keeps a connection on the backend chosen by its first packet.
// When a backend goes away, its entries would keep a UDP flow (which never
// ends by itself) pinned to the dead address; like kube-proxy, the Apply
// calls delete those stale entries, so the next packet is balanced again.

// vipStale matches flows to a VIP whose backend is no longer one of the
// VIP's backends.
type vipStale map[netip.Addr]map[netip.Addr]bool

func newVIPStale(vips []VIP) vipStale {
	m := vipStale{}
	for _, v := range vips {
		set := map[netip.Addr]bool{}
		for _, b := range v.Backends {
			set[b.Unmap()] = true
		}
		m[v.Addr.Unmap()] = set
	}
	return m
}

func (m vipStale) MatchConntrackFlow(f *netlink.ConntrackFlow) bool {
	dst, ok1 := netip.AddrFromSlice(f.Forward.DstIP)
	backend, ok2 := netip.AddrFromSlice(f.Reverse.SrcIP)
	if !ok1 || !ok2 {
		return false
	}
	backends, ok := m[dst.Unmap()]
	return ok && !backends[backend.Unmap()]
}

// ingressStale matches flows DNATed by the ingress sandbox whose backend
// or target port is no longer the published port's.
type ingressStale map[portKey]ingressTarget

type portKey struct {
	proto uint8
	port  uint16
}

type ingressTarget struct {
	port     uint16
	backends map[netip.Addr]bool
}

func newIngressStale(ports []IngressPort) ingressStale {
	m := ingressStale{}
	for _, p := range ports {
		proto, err := l4proto(p.Protocol)
		if err != nil {
			continue
		}
		t := ingressTarget{port: p.TargetPort, backends: map[netip.Addr]bool{}}
		for _, b := range p.Backends {
			t.backends[b.Unmap()] = true
		}
		m[portKey{proto, p.PublishedPort}] = t
	}
	return m
}

func (m ingressStale) MatchConntrackFlow(f *netlink.ConntrackFlow) bool {
	dst, ok1 := netip.AddrFromSlice(f.Forward.DstIP)
	backend, ok2 := netip.AddrFromSlice(f.Reverse.SrcIP)
	if !ok1 || !ok2 || dst.Unmap() == backend.Unmap() {
		return false // not DNATed: not ours
	}
	t, ok := m[portKey{f.Forward.Protocol, f.Forward.DstPort}]
	if !ok {
		return false
	}
	return f.Reverse.SrcPort != t.port || !t.backends[backend.Unmap()]
}

// deleteFlows deletes the IPv4 conntrack entries matched by filter in the
// netns at nsPath ("" = the caller's).
func deleteFlows(nsPath string, filter netlink.CustomConntrackFilter) error {
	return inNetNS(nsPath, func() error {
		h, err := netlink.NewHandle(unix.NETLINK_NETFILTER)
		if err != nil {
			return fmt.Errorf("conntrack: %w", err)
		}
		defer h.Close()
		if _, err := h.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, filter); err != nil {
			return fmt.Errorf("conntrack: delete stale entries: %w", err)
		}
		return nil
	})
}
