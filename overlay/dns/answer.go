package dns

import (
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// respTTL is the TTL of every record the server answers itself (Docker's respTTL).
const respTTL = 600

const ptrIPv4Domain = ".in-addr.arpa."

// answer is the response to query from r, or nil when the query is not for the swarm's names
// and must be forwarded (moby libnetwork/resolver.go serveDNS: A, AAAA, MX and PTR are
// answered when the name is ours; every other type is forwarded). shuffle reorders the
// addresses of an answer (Docker shuffles them).
func answer(query *dns.Msg, r Resolver, shuffle func([]netip.Addr)) *dns.Msg {
	if query == nil || len(query.Question) == 0 {
		return nil
	}
	q := query.Question[0]
	switch q.Qtype {
	case dns.TypeA, dns.TypeAAAA:
		ips, ours := r.Lookup(normalizeName(q.Name))
		if !ours {
			return nil
		}
		if len(ips) == 0 {
			return nameError(query)
		}
		resp := reply(query)
		var matching []netip.Addr
		for _, ip := range ips {
			if ip.Is4() == (q.Qtype == dns.TypeA) {
				matching = append(matching, ip)
			}
		}
		if len(matching) > 1 {
			shuffle(matching)
		}
		for _, ip := range matching {
			hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: respTTL}
			if ip.Is4() {
				resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr, A: ip.AsSlice()})
			} else {
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()})
			}
		}
		return resp
	case dns.TypeMX:
		// A name we know has no MX: NOERROR, empty, so that mail clients fall back to the
		// address ("implicit MX", RFC 5321 5.1), as Docker's handleMXQuery.
		ips, ours := r.Lookup(normalizeName(q.Name))
		if !ours {
			return nil
		}
		if len(ips) == 0 {
			return nameError(query)
		}
		return reply(query)
	case dns.TypePTR:
		ip, ok := parsePTR(q.Name)
		if !ok {
			return nil
		}
		names, ours := r.Reverse(ip)
		if !ours {
			return nil
		}
		if len(names) == 0 {
			return nameError(query)
		}
		resp := reply(query)
		for _, name := range names {
			resp.Answer = append(resp.Answer, &dns.PTR{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: respTTL},
				Ptr: dns.Fqdn(name),
			})
		}
		return resp
	}
	return nil
}

// reply is an empty NOERROR reply to query, as Docker's createRespMsg: recursion available,
// not authoritative.
func reply(query *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(query)
	resp.RecursionAvailable = true
	return resp
}

// nameError is the NXDOMAIN reply for a name of the swarm that has no address.
func nameError(query *dns.Msg) *dns.Msg {
	resp := reply(query)
	resp.Rcode = dns.RcodeNameError
	return resp
}

// parsePTR returns the IPv4 address of a full in-addr.arpa name ("5.1.0.10.in-addr.arpa.").
// Partial names and ip6.arpa names are not ours (Docker forwards what it cannot resolve).
func parsePTR(qname string) (netip.Addr, bool) {
	rest, ok := strings.CutSuffix(strings.ToLower(dns.Fqdn(qname)), ptrIPv4Domain)
	if !ok {
		return netip.Addr{}, false
	}
	labels := strings.Split(rest, ".")
	if len(labels) != 4 {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(labels[3] + "." + labels[2] + "." + labels[1] + "." + labels[0])
	if err != nil {
		return netip.Addr{}, false
	}
	return ip, true
}

// shuffleAddrs reorders ips at random, as Docker's shuffleAddr.
func shuffleAddrs(ips []netip.Addr) {
	rand.Shuffle(len(ips), func(i, j int) { ips[i], ips[j] = ips[j], ips[i] })
}
