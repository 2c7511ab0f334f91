package lb

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/nftables"
)

// TestIngress builds the routing mesh of one node: a client reaches the
// node's address on a published port, the node forwards it to the ingress
// sandbox over the gateway bridge, the sandbox balances it over two
// backends on the ingress network.
func TestIngress(t *testing.T) {
	needRoot(t)
	node := newNS(t, "node")
	sbx := newNS(t, "sbx")
	client := newNS(t, "cli")
	b1 := newNS(t, "b1")
	b2 := newNS(t, "b2")
	link(t, client, "eth0", "198.18.0.1/24", node, "ext0", "198.18.0.2/24")
	link(t, node, "vsbx", "", sbx, "eth1", "172.18.0.2/16")
	bridge(t, node, "gwbr", "172.18.0.1/16", "vsbx")
	sbx.ip(t, "route", "add", "default", "via", "172.18.0.1")
	link(t, sbx, "vb1", "", b1, "eth0", "10.0.0.5/24")
	link(t, sbx, "vb2", "", b2, "eth0", "10.0.0.6/24")
	bridge(t, sbx, "br0", "10.0.0.2/24", "vb1", "vb2")
	serveTCP(t, b1, "0.0.0.0:8080", "b1")
	serveTCP(t, b2, "0.0.0.0:8080", "b2")

	ports := []IngressPort{{
		Protocol: "tcp", PublishedPort: 30080, TargetPort: 8080,
		Backends: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.6")},
	}, {Protocol: "udp", PublishedPort: 30053, TargetPort: 53}}
	if err := ApplyIngressSandbox(sbx.path, ports, "br0"); err != nil {
		t.Fatal(err)
	}
	err := inNetNS(node.path, func() error {
		if err := EnableRouteLocalnet("gwbr"); err != nil {
			return err
		}
		return ApplyIngressHost([]HostPort{{Protocol: "tcp", Port: 30080, Dest: netip.MustParseAddr("172.18.0.2")}})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sandbox:\n%s\nnode:\n%s", sbx.ruleset(t), node.ruleset(t))
	for _, n := range []testNS{sbx, node} {
		if got := run(t, "ip", "netns", "exec", n.name, "sysctl", "-n", "net.ipv4.ip_forward"); strings.TrimSpace(got) != "1" {
			t.Errorf("ip_forward in %s = %q", n.name, got)
		}
	}

	got := answers(t, client, "198.18.0.2:30080", 12)
	if got["b1"] == 0 || got["b2"] == 0 || len(got) != 2 {
		t.Fatalf("client answers: %s", keys(got))
	}
	for _, addr := range []string{"127.0.0.1:30080", "198.18.0.2:30080"} {
		got := answers(t, node, addr, 4)
		if got["b1"]+got["b2"] != 4 {
			t.Fatalf("node answers on %s: %s", addr, keys(got))
		}
	}
	if _, err := dialTCP(client, "198.18.0.2:30081"); err == nil {
		t.Fatal("unpublished port answered")
	}

	// Removing the ports removes the tables; the port no longer answers.
	if err := ApplyIngressSandbox(sbx.path, nil, "br0"); err != nil {
		t.Fatal(err)
	}
	if err := inNetNS(node.path, func() error { return ApplyIngressHost(nil) }); err != nil {
		t.Fatal(err)
	}
	for _, n := range []testNS{sbx, node} {
		if rs := n.ruleset(t); strings.Contains(rs, "shoal-ingress") {
			t.Fatalf("table left in %s:\n%s", n.name, rs)
		}
	}
	if _, err := dialTCP(client, "198.18.0.2:30080"); err == nil {
		t.Fatal("port still answers after removal")
	}
}

func TestRemoveAll(t *testing.T) {
	needRoot(t)
	n := newNS(t, "rm")
	if err := RemoveAll(n.path); err != nil {
		t.Fatalf("RemoveAll with no table: %v", err)
	}
	if err := ApplyVIPs(n.path, []VIP{{Addr: netip.MustParseAddr("10.0.1.2")}}); err != nil {
		t.Fatal(err)
	}
	if err := ApplyIngressSandbox(n.path, []IngressPort{{Protocol: "tcp", PublishedPort: 80, TargetPort: 80}}, "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveAll(n.path); err != nil {
		t.Fatal(err)
	}
	c, done, err := openConn(n.path)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 0 {
		t.Fatalf("tables left: %d (%s)", len(tables), tables[0].Name)
	}
}
