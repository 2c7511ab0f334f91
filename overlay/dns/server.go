package dns

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Server is the embedded DNS server of one container: 127.0.0.11:53, UDP and TCP, in the
// container's network namespace, served from ordinary goroutines.
type Server struct {
	log      *slog.Logger
	resolver atomic.Pointer[resolverBox]
	fwd      *forwarder
	udp, tcp *dns.Server
	done     []chan error // one per dns.Server: the result of its serve loop

	closeOnce sync.Once
	closeErr  error
}

type resolverBox struct{ r Resolver }

// Serve listens on 127.0.0.11:53 UDP and TCP inside the netns at nsPath (sockets made in that
// netns, served from shoald's goroutines; lo must be up there) and answers from r; what is not
// ours goes to upstream ("ip:53", from the host's resolv.conf; at most 3 are used) from the
// caller's netns. A nil r knows no name; a nil log discards.
func Serve(nsPath string, r Resolver, upstream []string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if nsPath == "" {
		return nil, errors.New("dns: no network namespace")
	}
	var (
		pc *net.UDPConn
		l  *net.TCPListener
	)
	addr := netip.AddrPortFrom(listenAddr, 53)
	err := inNetNS(nsPath, func() error {
		var err error
		if pc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr)); err != nil {
			return err
		}
		if l, err = net.ListenTCP("tcp", net.TCPAddrFromAddrPort(addr)); err != nil {
			pc.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dns: listen on %s in %s: %w", addr, nsPath, err)
	}

	s := &Server{log: log, fwd: newForwarder(upstream, log)}
	s.SetResolver(r)
	s.udp = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serveDNS)}
	s.tcp = &dns.Server{Listener: l, Handler: dns.HandlerFunc(s.serveDNS)}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan error, 1)
		s.done = append(s.done, done)
		go func() { done <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-done:
			done <- err // for Close
			s.Close()
			pc.Close()
			l.Close()
			return nil, fmt.Errorf("dns: serve %s in %s: %w", addr, nsPath, err)
		}
	}
	return s, nil
}

// SetResolver replaces the names the server answers from; queries in flight finish with the
// previous one. A nil r knows no name.
func (s *Server) SetResolver(r Resolver) {
	if r == nil {
		r = noNames{}
	}
	s.resolver.Store(&resolverBox{r})
}

// Close stops both listeners, the forwarded queries in flight and the serving goroutines, and
// waits for them. It may be called more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.fwd.close()
		var errs []error
		for i, srv := range []*dns.Server{s.udp, s.tcp} {
			if i >= len(s.done) {
				break
			}
			_ = srv.Shutdown() // "server not started" when its serve loop already failed
			if err := <-s.done[i]; err != nil {
				errs = append(errs, err)
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// serveDNS answers one query as Docker's Resolver.serveDNS.
func (s *Server) serveDNS(w dns.ResponseWriter, query *dns.Msg) {
	if query == nil || len(query.Question) == 0 {
		return
	}
	proto := w.LocalAddr().Network()
	resp := answer(query, s.resolver.Load().r, shuffleAddrs)
	if resp != nil {
		resp.Truncate(maxSize(proto, query))
	} else if resp = s.fwd.forward(proto, query); resp == nil {
		resp = new(dns.Msg).SetRcode(query, dns.RcodeServerFailure)
	}
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("dns: write response", "err", err)
		// The failure may be the message's content: try to spare the client a timeout.
		if resp.Rcode != dns.RcodeServerFailure {
			_ = w.WriteMsg(new(dns.Msg).SetRcode(query, dns.RcodeServerFailure))
		}
	}
}

// maxSize is the size our own answers are truncated to: 512 bytes over UDP or the client's
// EDNS0 buffer size if larger, 64 KiB over TCP.
func maxSize(proto string, query *dns.Msg) int {
	if proto == "tcp" {
		return dns.MaxMsgSize
	}
	size := dns.MinMsgSize
	if opt := query.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
		size = int(opt.UDPSize())
	}
	return size
}
