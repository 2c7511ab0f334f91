package lb

import (
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
)

func flow(proto uint8, dst string, dport uint16, rsrc string, rsport uint16) *netlink.ConntrackFlow {
	return &netlink.ConntrackFlow{
		Forward: netlink.IPTuple{Protocol: proto, SrcIP: net.ParseIP("10.0.1.9"), DstIP: net.ParseIP(dst), SrcPort: 40000, DstPort: dport},
		Reverse: netlink.IPTuple{Protocol: proto, SrcIP: net.ParseIP(rsrc), DstIP: net.ParseIP("10.0.1.9"), SrcPort: rsport, DstPort: 40000},
	}
}

func TestVIPStale(t *testing.T) {
	m := newVIPStale([]VIP{
		{Addr: netip.MustParseAddr("10.0.1.100"), Backends: []netip.Addr{netip.MustParseAddr("10.0.1.3")}},
		{Addr: netip.MustParseAddr("10.0.1.101")},
	})
	for _, tc := range []struct {
		name string
		f    *netlink.ConntrackFlow
		want bool
	}{
		{"current backend", flow(17, "10.0.1.100", 53, "10.0.1.3", 53), false},
		{"gone backend", flow(17, "10.0.1.100", 53, "10.0.1.4", 53), true},
		{"vip without backends", flow(6, "10.0.1.101", 80, "10.0.1.3", 80), true},
		{"not a vip", flow(17, "10.0.1.50", 53, "10.0.1.50", 53), false},
	} {
		if got := m.MatchConntrackFlow(tc.f); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestIngressStale(t *testing.T) {
	m := newIngressStale([]IngressPort{{
		Protocol: "udp", PublishedPort: 30053, TargetPort: 53,
		Backends: []netip.Addr{netip.MustParseAddr("10.0.0.5")},
	}})
	for _, tc := range []struct {
		name string
		f    *netlink.ConntrackFlow
		want bool
	}{
		{"current backend", flow(17, "172.18.0.2", 30053, "10.0.0.5", 53), false},
		{"gone backend", flow(17, "172.18.0.2", 30053, "10.0.0.6", 53), true},
		{"old target port", flow(17, "172.18.0.2", 30053, "10.0.0.5", 54), true},
		{"other protocol", flow(6, "172.18.0.2", 30053, "10.0.0.6", 53), false},
		{"not dnated", flow(17, "172.18.0.2", 30053, "172.18.0.2", 30053), false},
	} {
		if got := m.MatchConntrackFlow(tc.f); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestL4Proto(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want byte
		err  bool
	}{{"tcp", 6, false}, {"udp", 17, false}, {"sctp", 132, false}, {"", 6, false}, {"icmp", 0, true}} {
		got, err := l4proto(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("l4proto(%q) = %d, %v", tc.in, got, err)
		}
	}
}
