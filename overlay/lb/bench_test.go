package lb

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// The benchmarks measure what the nftables data plane costs: a connection
// through a VIP or a published port against one straight to the backend,
// and the rule update a view change makes in every container. They need
// root (netns, nftables) and are skipped otherwise; they build their
// namespaces with the helpers of helpers_test.go.

// newBenchNS is newNS for a benchmark, skipped without root.
func newBenchNS(tb testing.TB, tag string) testNS {
	tb.Helper()
	needRoot(tb)
	return newNS(tb, "b"+tag)
}

// request is what the client sends; a server answers it with its name and
// closes (so the TIME_WAIT sockets stay on the server's side).
const request = "ping"

// benchServe serves request/answer exchanges on addr inside n, one
// connection at a time (the client is sequential), until the benchmark ends.
func benchServe(tb testing.TB, n testNS, addr, answer string) {
	tb.Helper()
	var l net.Listener
	err := inNetNS(n.path, func() (err error) {
		l, err = net.Listen("tcp4", addr)
		return err
	})
	if err != nil {
		tb.Fatalf("listen %s in %s: %v", addr, n.name, err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		buf := make([]byte, len(request))
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, buf); err == nil {
				io.WriteString(c, answer)
			}
			c.Close()
		}
	}()
}

// exchange connects to addr, sends the request, reads the answer to the
// end and closes: one short connection.
func exchange(addr string) (string, error) {
	c, err := net.DialTimeout("tcp4", addr, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		return "", err
	}
	var buf [16]byte
	got, err := io.ReadFull(c, buf[:])
	if err != io.ErrUnexpectedEOF && err != io.EOF || got == 0 {
		return "", fmt.Errorf("answer %q: %v", buf[:got], err)
	}
	return string(buf[:got]), nil
}

// benchConnect times b.Loop exchanges with addr from a thread inside the
// client netns (so that no setns is timed) and checks that every answer
// is one of want.
func benchConnect(b *testing.B, client testNS, addr string, want ...string) {
	b.Helper()
	seen := map[string]int{}
	err := inNetNS(client.path, func() error {
		// b.Loop resets the timer at its first call and stops it at its
		// last; it is not a Fatal, so it may run on this goroutine.
		for b.Loop() {
			a, err := exchange(addr)
			if err != nil {
				return err
			}
			seen[a]++
		}
		return nil
	})
	if err != nil {
		b.Fatalf("exchange with %s: %v", addr, err)
	}
	for a := range seen {
		if !slices.Contains(want, a) {
			b.Fatalf("answer %q from %s, want one of %v", a, addr, want)
		}
	}
	if len(seen) != len(want) {
		b.Fatalf("answers %v from %s, want each of %v", seen, addr, want)
	}
}

// vipTopology is TestVIPs's: a client and two backends on one bridge in
// the network's netns.
func vipTopology(b *testing.B) (client testNS) {
	network := newBenchNS(b, "net")
	client = newBenchNS(b, "cli")
	b1 := newBenchNS(b, "b1")
	b2 := newBenchNS(b, "b2")
	link(b, network, "vcli", "", client, "eth0", "10.0.1.2/24")
	link(b, network, "vb1", "", b1, "eth0", "10.0.1.3/24")
	link(b, network, "vb2", "", b2, "eth0", "10.0.1.4/24")
	bridge(b, network, "br0", "", "vcli", "vb1", "vb2")
	benchServe(b, b1, "0.0.0.0:80", "b1")
	benchServe(b, b2, "0.0.0.0:80", "b2")
	return client
}

var benchVIP = VIP{
	Addr:     netip.MustParseAddr("10.0.1.100"),
	Backends: []netip.Addr{netip.MustParseAddr("10.0.1.3"), netip.MustParseAddr("10.0.1.4")},
}

// BenchmarkConnectDirect: connections to a backend's address, no table in
// the client's netns (no conntrack there).
func BenchmarkConnectDirect(b *testing.B) {
	client := vipTopology(b)
	benchConnect(b, client, "10.0.1.3:80", "b1")
}

// BenchmarkConnectDirectTable: connections to a backend's address with
// the VIP table loaded in the client's netns (conntrack and the nat chain
// see every connection; no DNAT).
func BenchmarkConnectDirectTable(b *testing.B) {
	client := vipTopology(b)
	if err := ApplyVIPs(client.path, []VIP{benchVIP}); err != nil {
		b.Fatal(err)
	}
	benchConnect(b, client, "10.0.1.3:80", "b1")
}

// BenchmarkConnectVIP: connections to a VIP of two backends (DNAT,
// round robin).
func BenchmarkConnectVIP(b *testing.B) {
	client := vipTopology(b)
	if err := ApplyVIPs(client.path, []VIP{benchVIP}); err != nil {
		b.Fatal(err)
	}
	benchConnect(b, client, "10.0.1.100:80", "b1", "b2")
}

// BenchmarkApplyVIPs: one container's whole table replaced with n VIPs of
// 3 backends each, as on each view change. Two views alternate (the last
// backend of every VIP differs) so that every apply changes the backends
// and looks for stale conntrack entries (a dump of the conntrack table).
func BenchmarkApplyVIPs(b *testing.B) {
	for _, n := range []int{10, 50, 100} {
		b.Run(fmt.Sprintf("vips=%d", n), func(b *testing.B) {
			ns := newBenchNS(b, "apply")
			var views [2][]VIP
			for v := range views {
				for i := range n {
					views[v] = append(views[v], VIP{
						Addr: netip.AddrFrom4([4]byte{10, 0, byte(1 + i/200), byte(i%200 + 2)}),
						Backends: []netip.Addr{
							netip.AddrFrom4([4]byte{10, 1, byte(i), 1}),
							netip.AddrFrom4([4]byte{10, 1, byte(i), 2}),
							netip.AddrFrom4([4]byte{10, 1, byte(i), byte(3 + v)}),
						},
					})
				}
			}
			if err := ApplyVIPs(ns.path, views[1]); err != nil {
				b.Fatalf("ApplyVIPs with %d VIPs: %v", n, err)
			}
			i := 0
			for b.Loop() {
				if err := ApplyVIPs(ns.path, views[i%2]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// ingressTopology is TestIngress's (client -> node's published port ->
// ingress sandbox -> two backends), plus routes so that the client can
// also reach a backend's address over the same hops without any DNAT.
func ingressTopology(b *testing.B) (client testNS) {
	node := newBenchNS(b, "node")
	sbx := newBenchNS(b, "sbx")
	client = newBenchNS(b, "cli")
	b1 := newBenchNS(b, "b1")
	b2 := newBenchNS(b, "b2")
	link(b, client, "eth0", "198.18.0.1/24", node, "ext0", "198.18.0.2/24")
	link(b, node, "vsbx", "", sbx, "eth1", "172.18.0.2/16")
	bridge(b, node, "gwbr", "172.18.0.1/16", "vsbx")
	sbx.ip(b, "route", "add", "default", "via", "172.18.0.1")
	link(b, sbx, "vb1", "", b1, "eth0", "10.0.0.5/24")
	link(b, sbx, "vb2", "", b2, "eth0", "10.0.0.6/24")
	bridge(b, sbx, "br0", "10.0.0.2/24", "vb1", "vb2")
	client.ip(b, "route", "add", "10.0.0.0/24", "via", "198.18.0.2")
	node.ip(b, "route", "add", "10.0.0.0/24", "via", "172.18.0.2")
	b1.ip(b, "route", "add", "default", "via", "10.0.0.2")
	b2.ip(b, "route", "add", "default", "via", "10.0.0.2")
	benchServe(b, b1, "0.0.0.0:8080", "b1")
	benchServe(b, b2, "0.0.0.0:8080", "b2")

	ports := []IngressPort{{
		Protocol: "tcp", PublishedPort: 30080, TargetPort: 8080,
		Backends: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.6")},
	}}
	if err := ApplyIngressSandbox(sbx.path, ports, "br0"); err != nil {
		b.Fatal(err)
	}
	err := inNetNS(node.path, func() error {
		return ApplyIngressHost([]HostPort{{Protocol: "tcp", Port: 30080, Dest: netip.MustParseAddr("172.18.0.2")}})
	})
	if err != nil {
		b.Fatal(err)
	}
	return client
}

// BenchmarkIngress: connections to the node's published port (DNAT on the
// node to the sandbox, DNAT and masquerade in the sandbox to a backend).
func BenchmarkIngress(b *testing.B) {
	client := ingressTopology(b)
	benchConnect(b, client, "198.18.0.2:30080", "b1", "b2")
}

// BenchmarkIngressRouted: connections to a backend's address over the same
// hops (node, sandbox), routed with the same tables loaded but no DNAT
// (the sandbox still masquerades out of br0).
func BenchmarkIngressRouted(b *testing.B) {
	client := ingressTopology(b)
	benchConnect(b, client, "10.0.0.5:8080", "b1")
}
