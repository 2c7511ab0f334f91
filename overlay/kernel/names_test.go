package kernel

import (
	"net/netip"
	"testing"
)

func TestMACFor(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"10.0.9.2", "02:42:0a:00:09:02"},
		{"172.18.0.1", "02:42:ac:12:00:01"},
		{"::ffff:10.0.0.255", "02:42:0a:00:00:ff"},
		{"fd00::1", ""},
	} {
		if got := MACFor(netip.MustParseAddr(tc.ip)).String(); got != tc.want {
			t.Errorf("MACFor(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
	if got := MACFor(netip.Addr{}); got != nil {
		t.Errorf("MACFor(zero) = %v, want nil", got)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{networkNSName("3k9x2v7q1m0a8b6c5d4e"), "ov-3k9x2v7q1m0a"},
		{networkNSName("short"), "ov-short"},
		{vxlanName(4096), "vx-4096"},
		{vxlanName(1<<24 - 1), "vx-16777215"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	a := overlayVethName("net1", "/run/shoal/netns/c1", "eth0")
	if len(a) != 13 || a[:3] != "ve-" {
		t.Errorf("overlay veth name %q: want ve- and 10 hex", a)
	}
	distinct := map[string]bool{
		a: true,
		overlayVethName("net2", "/run/shoal/netns/c1", "eth0"): true,
		overlayVethName("net1", "/run/shoal/netns/c2", "eth0"): true,
		overlayVethName("net1", "/run/shoal/netns/c1", "eth1"): true,
		bridgeVethName("/run/shoal/netns/c1", "eth0"):          true,
	}
	if len(distinct) != 5 {
		t.Errorf("veth names collide: %v", distinct)
	}
	if overlayVethName("net1", "/run/shoal/netns/c1/", "eth0") != a {
		t.Errorf("veth name depends on a trailing slash")
	}
}

func TestNetworkConfigValidate(t *testing.T) {
	ok := testNetwork("198.18.0.1")
	for name, mutate := range map[string]func(*NetworkConfig){
		"no id":       func(c *NetworkConfig) { c.ID = "" },
		"vni 0":       func(c *NetworkConfig) { c.VNI = 0 },
		"vni too big": func(c *NetworkConfig) { c.VNI = 1 << 24 },
		"no subnet":   func(c *NetworkConfig) { c.Subnet = netip.Prefix{} },
		"gw outside":  func(c *NetworkConfig) { c.Gateway = netip.MustParseAddr("10.0.8.1") },
		"ipv6 vtep":   func(c *NetworkConfig) { c.LocalVTEP = netip.MustParseAddr("fd00::1") },
		"ipv6 subnet": func(c *NetworkConfig) { c.Subnet = netip.MustParsePrefix("fd00::/64") },
	} {
		c := ok
		mutate(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: validate accepted %+v", name, c)
		}
	}
	if err := ok.validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
	ok.LocalVTEP = netip.Addr{}
	if err := ok.validate(); err != nil {
		t.Errorf("config without local VTEP rejected: %v", err)
	}
}
