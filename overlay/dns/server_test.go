package dns

import (
	"net"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/shoal-project/shoal/swarm/netview"
)

// aStrings is the addresses of the A records of m, sorted.
func aStrings(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	sort.Strings(out)
	return out
}

func TestServeInNetNS(t *testing.T) {
	ns := newTestNetNS(t)
	up := startUpstream(t, answerA("198.18.0.99"))

	// The upstream is on the test's own 127.0.0.1: unreachable from the container's netns.
	if err := inNetNS(ns, func() error {
		c, err := net.DialTimeout("tcp", up.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}); err == nil {
		t.Fatal("the fake upstream is reachable from the container netns: the test proves nothing")
	}

	srv, err := Serve(ns, NewTable(testView(), []string{"n0", "n1", "n2"}), []string{up.addr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	t.Run("A vip", func(t *testing.T) {
		resp := queryIn(t, ns, "udp", "web.", dns.TypeA)
		if resp.Rcode != dns.RcodeSuccess || !slices.Equal(aStrings(resp), []string{"10.0.1.2"}) {
			t.Fatalf("got %v", resp)
		}
		if a := resp.Answer[0].Header(); a.Ttl != 600 || a.Name != "web." {
			t.Errorf("record header %v; want web. TTL 600", a)
		}
		if !resp.RecursionAvailable || resp.Authoritative {
			t.Errorf("flags RA=%v AA=%v", resp.RecursionAvailable, resp.Authoritative)
		}
	})
	t.Run("A tasks", func(t *testing.T) {
		resp := queryIn(t, ns, "udp", "TASKS.web.", dns.TypeA)
		if want := []string{"10.0.1.5", "10.0.1.6"}; !slices.Equal(aStrings(resp), want) {
			t.Fatalf("got %v; want %v", resp, want)
		}
	})
	t.Run("A no running task", func(t *testing.T) {
		if resp := queryIn(t, ns, "udp", "tasks.empty.", dns.TypeA); resp.Rcode != dns.RcodeNameError {
			t.Fatalf("got %v; want NXDOMAIN", resp)
		}
	})
	t.Run("AAAA", func(t *testing.T) {
		resp := queryIn(t, ns, "udp", "web.", dns.TypeAAAA)
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 0 {
			t.Fatalf("got %v; want NOERROR without answer", resp)
		}
	})
	t.Run("PTR", func(t *testing.T) {
		resp := queryIn(t, ns, "udp", "6.1.0.10.in-addr.arpa.", dns.TypePTR)
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || resp.Answer[0].(*dns.PTR).Ptr != "web.2.t2.front." {
			t.Fatalf("got %v; want web.2.t2.front.", resp)
		}
	})
	t.Run("TCP", func(t *testing.T) {
		resp := queryIn(t, ns, "tcp", "api.1.t5.", dns.TypeA)
		if !slices.Equal(aStrings(resp), []string{"10.0.2.5"}) {
			t.Fatalf("got %v", resp)
		}
	})
	t.Run("forwarded", func(t *testing.T) {
		n := len(up.queries())
		for _, network := range []string{"udp", "tcp"} {
			resp := queryIn(t, ns, network, "example.test.", dns.TypeA)
			if resp.Rcode != dns.RcodeSuccess || !slices.Equal(aStrings(resp), []string{"198.18.0.99"}) {
				t.Fatalf("%s: got %v; want the upstream's answer", network, resp)
			}
		}
		if got, want := up.queries()[n:], []string{"udp example.test.", "tcp example.test."}; !slices.Equal(got, want) {
			t.Errorf("upstream saw %q; want %q", got, want)
		}
	})
	t.Run("network not attached forwarded", func(t *testing.T) {
		n := len(up.queries())
		queryIn(t, ns, "udp", "secret.", dns.TypeA)
		if got := up.queries()[n:]; !slices.Equal(got, []string{"udp secret."}) {
			t.Errorf("upstream saw %q; want the query for secret.", got)
		}
	})
	t.Run("SetResolver", func(t *testing.T) {
		v := netview.NodeView{Networks: []netview.Network{{ID: "n1", Name: "front",
			Services: []netview.Service{{ID: "sweb", Name: "web", VIP: "10.0.1.42"}}}}}
		srv.SetResolver(NewTable(v, []string{"n1"}))
		defer srv.SetResolver(NewTable(testView(), []string{"n0", "n1", "n2"}))
		if got := aStrings(queryIn(t, ns, "udp", "web.", dns.TypeA)); !slices.Equal(got, []string{"10.0.1.42"}) {
			t.Fatalf("after SetResolver got %v", got)
		}
		srv.SetResolver(nil)
		n := len(up.queries())
		if got := aStrings(queryIn(t, ns, "udp", "web.", dns.TypeA)); !slices.Equal(got, []string{"198.18.0.99"}) {
			t.Fatalf("with no resolver got %v; want forwarded", got)
		}
		if len(up.queries()) != n+1 {
			t.Errorf("with no resolver the query was not forwarded")
		}
	})

	// Close frees both sockets: a new server binds the same address in the same netns.
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	again, err := Serve(ns, nil, nil, nil)
	if err != nil {
		t.Fatalf("Serve after Close: %v", err)
	}
	defer again.Close()

	// No upstream: SERVFAIL, as Docker.
	resp := queryIn(t, ns, "udp", "example.test.", dns.TypeA)
	if resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("no upstream: got %v; want SERVFAIL", resp)
	}
}

func TestServeErrors(t *testing.T) {
	if _, err := Serve("", nil, nil, nil); err == nil {
		t.Error("Serve without netns succeeded")
	}
	if _, err := Serve(t.TempDir()+"/missing", nil, nil, nil); err == nil {
		t.Error("Serve into a missing netns succeeded")
	}
	ns := newTestNetNS(t)
	srv, err := Serve(ns, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if second, err := Serve(ns, nil, nil, nil); err == nil {
		second.Close()
		t.Error("a second server on the same netns succeeded; want address in use")
	}
}

// The server's sockets stay in the container netns: 127.0.0.11:53 stays free in the caller's.
func TestServeLeavesCallerNetNS(t *testing.T) {
	ns := newTestNetNS(t)
	addr := net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.11:53"))
	l, err := net.ListenTCP("tcp", addr)
	if err != nil {
		t.Skipf("127.0.0.11:53 is in use in the test's netns: %v", err)
	}
	l.Close()
	srv, err := Serve(ns, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l, err = net.ListenTCP("tcp", addr)
	if err != nil {
		t.Fatalf("127.0.0.11:53 taken in the caller's netns after Serve: %v", err)
	}
	l.Close()
}
