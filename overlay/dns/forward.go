package dns

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

const (
	maxUpstream     = 3               // upstream servers tried (Docker's maxExtDNS)
	upstreamTimeout = 4 * time.Second // per upstream server (Docker's extIOTimeout)
	maxForwarding   = 1024            // concurrent forwarded queries (Docker's maxConcurrent)
)

// listenAddr is where the server listens in a container's netns (Docker's resolverIPSandbox).
var listenAddr = netip.MustParseAddr("127.0.0.11")

// forwarder sends the queries that are not the swarm's to the upstream servers, from the
// network namespace of the goroutine that dials (the node's: it is never a locked thread).
type forwarder struct {
	servers []string      // "ip:port", at most maxUpstream
	timeout time.Duration // per server
	slots   chan struct{} // a slot per forwarded query in flight
	ctx     context.Context
	cancel  context.CancelFunc
	log     *slog.Logger
}

// newForwarder keeps the first maxUpstream usable servers of upstream ("ip:port" or "ip", port
// 53 then); the server's own address is dropped, as Docker's filterExtServers.
func newForwarder(upstream []string, log *slog.Logger) *forwarder {
	f := &forwarder{timeout: upstreamTimeout, slots: make(chan struct{}, maxForwarding), log: log}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	for _, u := range upstream {
		ap, err := netip.ParseAddrPort(u)
		if err != nil {
			ip, err2 := netip.ParseAddr(u)
			if err2 != nil {
				log.Warn("dns: ignoring upstream server", "server", u, "err", err)
				continue
			}
			ap = netip.AddrPortFrom(ip, 53)
		}
		if ap.Addr().Unmap() == listenAddr {
			continue
		}
		if len(f.servers) < maxUpstream {
			f.servers = append(f.servers, ap.String())
		}
	}
	return f
}

// forward returns the first usable upstream response to query, asked over proto ("udp" or
// "tcp", as the client asked), or nil when no server answered. A server answering SERVFAIL or
// REFUSED is skipped, as in Docker's forwardExtDNS; REFUSED comes back when too many queries are
// in flight.
func (f *forwarder) forward(proto string, query *dns.Msg) *dns.Msg {
	for _, server := range f.servers {
		if !f.acquire() {
			return new(dns.Msg).SetRcode(query, dns.RcodeRefused)
		}
		resp, err := f.exchange(proto, server, query)
		<-f.slots
		if err != nil {
			f.log.Debug("dns: upstream query failed", "server", proto+":"+server, "question", query.Question[0].String(), "err", err)
			continue
		}
		if resp.Rcode == dns.RcodeServerFailure || resp.Rcode == dns.RcodeRefused {
			f.log.Debug("dns: upstream answered failure", "server", proto+":"+server, "rcode", dns.RcodeToString[resp.Rcode])
			continue
		}
		resp.Compress = true
		return resp
	}
	return nil
}

// acquire takes a slot for a forwarded query, waiting at most the timeout.
func (f *forwarder) acquire() bool {
	select {
	case f.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(f.timeout)
	defer t.Stop()
	select {
	case f.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-f.ctx.Done():
		return false
	}
}

func (f *forwarder) exchange(proto, server string, query *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(f.ctx, f.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, proto, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // Close of the server: stop waiting
	defer stop()
	c := &dns.Client{Timeout: f.timeout, UDPSize: dns.MaxMsgSize}
	resp, _, err := c.ExchangeWithConnContext(ctx, query, &dns.Conn{Conn: conn})
	return resp, err
}

// close stops the queries in flight.
func (f *forwarder) close() { f.cancel() }
