package lb

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// TestGateway: a container on the node's gateway bridge reaches an outside host, masqueraded
// behind the node's address; a port it publishes in host mode answers on the node's address;
// removing the table takes both away.
func TestGateway(t *testing.T) {
	needRoot(t)
	node := newNS(t, "gwnode")
	ctr := newNS(t, "gwctr")
	outside := newNS(t, "gwout")
	link(t, outside, "eth0", "198.18.7.2/24", node, "ext0", "198.18.7.1/24")
	link(t, node, "vctr", "", ctr, "eth1", "172.30.0.5/16")
	bridge(t, node, "gwtest", "172.30.0.1/16", "vctr")
	ctr.ip(t, "route", "add", "default", "via", "172.30.0.1")
	serveTCP(t, ctr, "0.0.0.0:80", "ctr")

	// the outside host answers with the address it sees
	serveTCPWith(t, outside, "198.18.7.2:9000", func(c net.Conn) string { return c.RemoteAddr().(*net.TCPAddr).IP.String() })

	apply := func(ports []GatewayPort) {
		t.Helper()
		if err := inNetNS(node.path, func() error {
			return ApplyGateway("gwtest", netip.MustParsePrefix("172.30.0.0/16"), ports)
		}); err != nil {
			t.Fatal(err)
		}
	}
	// the node forwards nothing by itself: without the table, no way out
	if err := inNetNS(node.path, func() error { return writeSysctl("net/ipv4/ip_forward", "0") }); err != nil {
		t.Fatal(err)
	}
	if _, err := dialTCP(ctr, "198.18.7.2:9000"); err == nil {
		t.Fatal("the container reached the outside host before the gateway was set up")
	}

	apply([]GatewayPort{{Protocol: "tcp", Port: 8081, Dest: netip.MustParseAddr("172.30.0.5"), TargetPort: 80}})
	t.Logf("node:\n%s", node.ruleset(t))
	got, err := dialTCP(ctr, "198.18.7.2:9000")
	if err != nil || got != "198.18.7.1" {
		t.Fatalf("from the container, the outside host saw %q (%v), want the node's address 198.18.7.1", got, err)
	}
	if got, err := dialTCP(outside, "198.18.7.1:8081"); err != nil || got != "ctr" {
		t.Fatalf("the host-mode port from outside: %q %v", got, err)
	}
	if got, err := dialTCP(node, "198.18.7.1:8081"); err != nil || got != "ctr" {
		t.Fatalf("the host-mode port from the node itself: %q %v", got, err)
	}
	if _, err := dialTCP(outside, "198.18.7.1:8082"); err == nil {
		t.Fatal("a port that is not published answered")
	}

	apply(nil) // no port: egress only
	if _, err := dialTCP(outside, "198.18.7.1:8081"); err == nil {
		t.Fatal("the port still answers after it was unpublished")
	}
	if err := inNetNS(node.path, RemoveGateway); err != nil {
		t.Fatal(err)
	}
	if rs := node.ruleset(t); strings.Contains(rs, gatewayTable) {
		t.Fatalf("table left:\n%s", rs)
	}
}
