package dns

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func noShuffle([]netip.Addr) {}

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// rrStrings renders the answer section, one record a string.
func rrStrings(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		out = append(out, rr.String())
	}
	return out
}

func TestAnswer(t *testing.T) {
	tab := NewTable(testView(), []string{"n1", "n2"})
	tests := []struct {
		name    string
		qname   string
		qtype   uint16
		forward bool
		rcode   int
		answer  []string
	}{
		{"A vip", "web.", dns.TypeA, false, dns.RcodeSuccess, []string{"web.\t600\tIN\tA\t10.0.1.2"}},
		{"A keeps the question's case", "WeB.", dns.TypeA, false, dns.RcodeSuccess, []string{"WeB.\t600\tIN\tA\t10.0.1.2"}},
		{"A tasks", "tasks.web.", dns.TypeA, false, dns.RcodeSuccess, []string{
			"tasks.web.\t600\tIN\tA\t10.0.1.5", "tasks.web.\t600\tIN\tA\t10.0.1.6"}},
		{"A ours without address", "tasks.empty.", dns.TypeA, false, dns.RcodeNameError, nil},
		{"A not ours", "example.com.", dns.TypeA, true, 0, nil},
		{"AAAA ours", "web.", dns.TypeAAAA, false, dns.RcodeSuccess, nil},
		{"AAAA ours without address", "empty.", dns.TypeAAAA, false, dns.RcodeNameError, nil},
		{"AAAA not ours", "example.com.", dns.TypeAAAA, true, 0, nil},
		{"MX ours", "web.", dns.TypeMX, false, dns.RcodeSuccess, nil},
		{"MX not ours", "example.com.", dns.TypeMX, true, 0, nil},
		{"PTR task", "5.1.0.10.in-addr.arpa.", dns.TypePTR, false, dns.RcodeSuccess, []string{
			"5.1.0.10.in-addr.arpa.\t600\tIN\tPTR\tweb.1.t1.front."}},
		{"PTR upper case", "5.1.0.10.IN-ADDR.ARPA.", dns.TypePTR, false, dns.RcodeSuccess, []string{
			"5.1.0.10.IN-ADDR.ARPA.\t600\tIN\tPTR\tweb.1.t1.front."}},
		{"PTR vip forwarded", "2.1.0.10.in-addr.arpa.", dns.TypePTR, true, 0, nil},
		{"PTR partial forwarded", "1.0.10.in-addr.arpa.", dns.TypePTR, true, 0, nil},
		{"PTR bad label forwarded", "x.1.0.10.in-addr.arpa.", dns.TypePTR, true, 0, nil},
		{"PTR ipv6 forwarded", "1.0.0.0.ip6.arpa.", dns.TypePTR, true, 0, nil},
		{"TXT forwarded", "web.", dns.TypeTXT, true, 0, nil},
		{"SRV forwarded", "_http._tcp.web.", dns.TypeSRV, true, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := question(tc.qname, tc.qtype)
			resp := answer(q, tab, noShuffle)
			if tc.forward {
				if resp != nil {
					t.Fatalf("answered %v; want forwarded", resp)
				}
				return
			}
			if resp == nil {
				t.Fatal("forwarded; want an answer")
			}
			if resp.Rcode != tc.rcode {
				t.Errorf("rcode %s; want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode])
			}
			if resp.Id != q.Id || !resp.Response || !resp.RecursionDesired {
				t.Errorf("not a reply to the query: %v", resp.MsgHdr)
			}
			if !resp.RecursionAvailable || resp.Authoritative {
				t.Errorf("flags RA=%v AA=%v; want RA, not AA (Docker)", resp.RecursionAvailable, resp.Authoritative)
			}
			if got := rrStrings(resp); !slices.Equal(got, tc.answer) {
				t.Errorf("answer %q; want %q", got, tc.answer)
			}
		})
	}
}

func TestAnswerShufflesSeveralAddresses(t *testing.T) {
	tab := NewTable(testView(), []string{"n1"})
	reverse := func(ips []netip.Addr) { slices.Reverse(ips) }
	got := rrStrings(answer(question("tasks.web.", dns.TypeA), tab, reverse))
	want := []string{"tasks.web.\t600\tIN\tA\t10.0.1.6", "tasks.web.\t600\tIN\tA\t10.0.1.5"}
	if !slices.Equal(got, want) {
		t.Errorf("answer %q; want the shuffled order %q", got, want)
	}
}

func TestAnswerNoQuestion(t *testing.T) {
	if resp := answer(new(dns.Msg), NewTable(testView(), []string{"n1"}), noShuffle); resp != nil {
		t.Errorf("answered a query without question: %v", resp)
	}
}

func TestParsePTR(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = not an IPv4 address
	}{
		{"5.1.0.10.in-addr.arpa.", "10.0.1.5"},
		{"5.1.0.10.in-addr.arpa", "10.0.1.5"},
		{"255.255.255.255.in-addr.arpa.", "255.255.255.255"},
		{"1.0.10.in-addr.arpa.", ""},
		{"1.1.0.10.10.in-addr.arpa.", ""},
		{"256.1.0.10.in-addr.arpa.", ""},
		{"05.1.0.10.in-addr.arpa.", ""},
		{"5.1.0.10.ip6.arpa.", ""},
		{"in-addr.arpa.", ""},
	}
	for _, tc := range tests {
		ip, ok := parsePTR(tc.in)
		if got := ""; ok {
			got = ip.String()
			if got != tc.want {
				t.Errorf("parsePTR(%q) = %s; want %q", tc.in, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("parsePTR(%q) failed; want %s", tc.in, tc.want)
		}
	}
}

func TestMaxSize(t *testing.T) {
	plain := question("web.", dns.TypeA)
	edns := question("web.", dns.TypeA).SetEdns0(4096, false)
	small := question("web.", dns.TypeA).SetEdns0(256, false)
	for _, tc := range []struct {
		proto string
		q     *dns.Msg
		want  int
	}{
		{"udp", plain, 512}, {"udp", edns, 4096}, {"udp", small, 512}, {"tcp", plain, dns.MaxMsgSize},
	} {
		if got := maxSize(tc.proto, tc.q); got != tc.want {
			t.Errorf("maxSize(%s, edns=%v) = %d; want %d", tc.proto, tc.q.IsEdns0() != nil, got, tc.want)
		}
	}
}
