package dns

import (
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// deadAddr is a UDP and TCP address on 127.0.0.1 where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestNewForwarderServers(t *testing.T) {
	f := newForwarder([]string{"127.0.0.11:53", "192.0.2.1", "nonsense", "192.0.2.2:53", "[2001:db8::1]:53", "192.0.2.3:53"}, slog.New(slog.DiscardHandler))
	defer f.close()
	want := []string{"192.0.2.1:53", "192.0.2.2:53", "[2001:db8::1]:53"}
	if !slices.Equal(f.servers, want) {
		t.Errorf("servers %q; want %q", f.servers, want)
	}
}

func TestForward(t *testing.T) {
	good := startUpstream(t, answerA("198.18.0.99"))
	servfail := startUpstream(t, rcode(dns.RcodeServerFailure))
	refused := startUpstream(t, rcode(dns.RcodeRefused))
	nxdomain := startUpstream(t, rcode(dns.RcodeNameError))
	silent := startUpstream(t, func(*dns.Msg) *dns.Msg { return nil })
	dead := deadAddr(t)

	tests := []struct {
		name    string
		servers []string
		proto   string
		want    string // the answer's rcode, or "" for none
		asked   []*upstream
	}{
		{"good", []string{good.addr}, "udp", "NOERROR", []*upstream{good}},
		{"good over tcp", []string{good.addr}, "tcp", "NOERROR", []*upstream{good}},
		{"servfail then good", []string{servfail.addr, good.addr}, "udp", "NOERROR", []*upstream{servfail, good}},
		{"refused then good", []string{refused.addr, good.addr}, "udp", "NOERROR", []*upstream{refused, good}},
		{"nxdomain is an answer", []string{nxdomain.addr, good.addr}, "udp", "NXDOMAIN", []*upstream{nxdomain}},
		{"dead then good", []string{dead, good.addr}, "tcp", "NOERROR", []*upstream{good}},
		{"silent then good", []string{silent.addr, good.addr}, "udp", "NOERROR", []*upstream{silent, good}},
		{"all fail", []string{servfail.addr, refused.addr, dead}, "udp", "", []*upstream{servfail, refused}},
		{"none", nil, "udp", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := map[*upstream]int{}
			for _, u := range []*upstream{good, servfail, refused, nxdomain, silent} {
				before[u] = len(u.queries())
			}
			f := newForwarder(tc.servers, slog.New(slog.DiscardHandler))
			defer f.close()
			f.timeout = 300 * time.Millisecond
			q := question("example.test.", dns.TypeA)
			resp := f.forward(tc.proto, q)
			got := ""
			if resp != nil {
				got = dns.RcodeToString[resp.Rcode]
				if resp.Id != q.Id {
					t.Errorf("response id %d; want %d", resp.Id, q.Id)
				}
			}
			if got != tc.want {
				t.Fatalf("forward = %q; want %q (%v)", got, tc.want, resp)
			}
			if tc.want == "NOERROR" && (len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "198.18.0.99") {
				t.Errorf("answer %v; want the upstream's", resp.Answer)
			}
			for u, n := range before {
				asked := len(u.queries()) - n
				wantAsked := 0
				if slices.Contains(tc.asked, u) {
					wantAsked = 1
				}
				if asked != wantAsked {
					t.Errorf("upstream %s asked %d times; want %d", u.addr, asked, wantAsked)
				}
				if asked == 1 && u.queries()[n] != tc.proto+" example.test." {
					t.Errorf("upstream got %q; want over %s", u.queries()[n], tc.proto)
				}
			}
		})
	}
}

func TestForwardStopsOnClose(t *testing.T) {
	asked := make(chan struct{}, 1)
	silent := startUpstream(t, func(*dns.Msg) *dns.Msg { asked <- struct{}{}; return nil })
	f := newForwarder([]string{silent.addr}, slog.New(slog.DiscardHandler))
	f.timeout = time.Minute
	done := make(chan *dns.Msg)
	go func() { done <- f.forward("udp", question("example.test.", dns.TypeA)) }()
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the query never reached the upstream")
	}
	f.close()
	select {
	case resp := <-done:
		if resp != nil {
			t.Errorf("forward after close = %v; want nil", resp)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("forward still waits after close")
	}
}
