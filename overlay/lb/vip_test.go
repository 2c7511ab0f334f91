package lb

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestVIPs(t *testing.T) {
	needRoot(t)
	net := newNS(t, "net")
	client := newNS(t, "cli")
	b1 := newNS(t, "b1")
	b2 := newNS(t, "b2")
	link(t, net, "vcli", "", client, "eth0", "10.0.1.2/24")
	link(t, net, "vb1", "", b1, "eth0", "10.0.1.3/24")
	link(t, net, "vb2", "", b2, "eth0", "10.0.1.4/24")
	bridge(t, net, "br0", "", "vcli", "vb1", "vb2")
	serveTCP(t, b1, "0.0.0.0:80", "b1")
	serveTCP(t, b2, "0.0.0.0:80", "b2")

	vip := netip.MustParseAddr("10.0.1.100")
	other := netip.MustParseAddr("10.0.1.101")
	ip1, ip2 := netip.MustParseAddr("10.0.1.3"), netip.MustParseAddr("10.0.1.4")

	// Two backends: both answer.
	if err := ApplyVIPs(client.path, []VIP{{Addr: vip, Backends: []netip.Addr{ip1, ip2}}, {Addr: other}}); err != nil {
		t.Fatal(err)
	}
	rs := client.ruleset(t)
	t.Logf("ruleset:\n%s", rs)
	if !strings.Contains(rs, "ip daddr 10.0.1.100 dnat to numgen inc mod 2 map @vip_0") {
		t.Errorf("no numgen dnat rule in:\n%s", rs)
	}
	got := answers(t, client, "10.0.1.100:80", 20)
	if got["b1"] == 0 || got["b2"] == 0 || len(got) != 2 {
		t.Fatalf("answers over 2 backends: %s", keys(got))
	}

	// UDP too; a flow stays on its backend (conntrack) until that backend
	// goes away: then its entry is deleted and the flow moves.
	serveUDP(t, b1, "0.0.0.0:53", "b1")
	serveUDP(t, b2, "0.0.0.0:53", "b2")
	u := newUDPClient(t, client, "10.0.1.100:53")
	first := u.ask(t)
	if again := u.ask(t); again != first {
		t.Fatalf("udp flow moved from %s to %s", first, again)
	}
	keep, keepIP := "b1", ip1
	if first == "b1" {
		keep, keepIP = "b2", ip2
	}
	if err := ApplyVIPs(client.path, []VIP{{Addr: vip, Backends: []netip.Addr{keepIP}}}); err != nil {
		t.Fatal(err)
	}
	if got := u.ask(t); got != keep {
		t.Fatalf("udp flow after its backend %s left: answer %s, want %s", first, got, keep)
	}

	// One backend: only it answers.
	if err := ApplyVIPs(client.path, []VIP{{Addr: vip, Backends: []netip.Addr{ip2}}}); err != nil {
		t.Fatal(err)
	}
	if got := answers(t, client, "10.0.1.100:80", 10); got["b2"] != 10 {
		t.Fatalf("answers with backend b2 only: %s", keys(got))
	}

	// No backend: refused at once.
	if err := ApplyVIPs(client.path, []VIP{{Addr: vip}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := dialTCP(client, "10.0.1.100:80")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a VIP without backend: %v, want connection refused", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusal took %v", d)
	}

	// No VIP at all: the table is gone.
	if err := ApplyVIPs(client.path, nil); err != nil {
		t.Fatal(err)
	}
	if rs := client.ruleset(t); strings.Contains(rs, "shoal-lb") {
		t.Fatalf("table left after ApplyVIPs(nil):\n%s", rs)
	}
}

func TestApplyVIPsRejectsBadInput(t *testing.T) {
	needRoot(t)
	n := newNS(t, "bad")
	v4 := netip.MustParseAddr("10.0.1.2")
	v6 := netip.MustParseAddr("fd00::1")
	for name, vips := range map[string][]VIP{
		"ipv6 vip":     {{Addr: v6}},
		"ipv6 backend": {{Addr: v4, Backends: []netip.Addr{v6}}},
		"duplicate":    {{Addr: v4}, {Addr: v4}},
	} {
		if err := ApplyVIPs(n.path, vips); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if rs := n.ruleset(t); strings.Contains(rs, "shoal-lb") {
		t.Fatalf("bad input left a table:\n%s", rs)
	}
}

// TestApplyConcurrently applies VIPs in several netns at once (the race
// detector checks that no state is shared between calls).
func TestApplyConcurrently(t *testing.T) {
	needRoot(t)
	var nss []testNS
	for i := range 4 {
		nss = append(nss, newNS(t, "c"+strconv.Itoa(i)))
	}
	vips := []VIP{
		{Addr: netip.MustParseAddr("10.0.1.100"), Backends: []netip.Addr{netip.MustParseAddr("10.0.1.3"), netip.MustParseAddr("10.0.1.4")}},
		{Addr: netip.MustParseAddr("10.0.1.101"), Backends: []netip.Addr{netip.MustParseAddr("10.0.1.5")}},
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(nss)*5)
	for _, n := range nss {
		wg.Go(func() {
			for range 5 {
				errs <- ApplyVIPs(n.path, vips)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nss {
		rs := n.ruleset(t)
		if strings.Count(rs, "dnat to numgen") != 2 {
			t.Fatalf("%s:\n%s", n.name, rs)
		}
	}
}
