package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/shoal-project/shoal/swarm/dispatcher"
)

// Server is the cluster channel's listener. Services are attached and detached at any time with
// the Serve* and Set* methods (nil detaches); a connection for a service that is not attached is
// refused.
type Server struct {
	ln     net.Listener
	src    TLSSource
	tlsCfg *tls.Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	conns    map[net.Conn]struct{} // connections the server itself owns (handshaking, RPC)
	leader   Leadership
	enroller Enroller
	disp     *dispatcher.Dispatcher
	members  Members
	raft     *StreamLayer
	apiH     http.Handler
	api      *http.Server
	apiLn    *connQueue
}

// Listen starts the channel on addr (host:port; port 0 picks one) with this node's certificate
// from src.
func Listen(addr string, src TLSSource) (*Server, error) {
	if _, _, err := localIdentity(src); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{ln: ln, src: src, tlsCfg: serverConfig(src), log: slog.Default(), ctx: ctx, cancel: cancel,
		conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// SetLogger sets where the server logs refused connections and failed calls.
func (s *Server) SetLogger(l *slog.Logger) {
	s.mu.Lock()
	s.log = l
	s.mu.Unlock()
}

// SetLeadership attaches the leadership hook. Without one, this server acts as the leader.
func (s *Server) SetLeadership(l Leadership) { s.set(func() { s.leader = l }) }

// ServeEnroller attaches the certificate authority (CA.Join, CA.Renew).
func (s *Server) ServeEnroller(e Enroller) { s.set(func() { s.enroller = e }) }

// ServeDispatcher attaches the dispatcher that agent sessions are served from.
func (s *Server) ServeDispatcher(d *dispatcher.Dispatcher) { s.set(func() { s.disp = d }) }

// ServeMembers attaches Raft membership changes (Raft.AddManager).
func (s *Server) ServeMembers(m Members) { s.set(func() { s.members = m }) }

// ServeAPI attaches the Engine API handler that requests forwarded by followers reach (shoal-api).
// ForwardedBy tells such requests apart.
func (s *Server) ServeAPI(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiH = h
	if h == nil || s.api != nil || s.closed {
		return
	}
	s.apiLn = newConnQueue(s.ln.Addr())
	s.api = &http.Server{Handler: http.HandlerFunc(s.serveAPI), ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if ac, ok := c.(*apiConn); ok {
				return context.WithValue(ctx, forwardedByKey{}, ac.peer.NodeID)
			}
			return ctx
		}}
	api, ln := s.api, s.apiLn
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		api.Serve(ln)
	}()
}

func (s *Server) set(f func()) {
	s.mu.Lock()
	f()
	s.mu.Unlock()
}

// state is a consistent view of what is attached.
type state struct {
	leader   Leadership
	enroller Enroller
	disp     *dispatcher.Dispatcher
	members  Members
	log      *slog.Logger
}

func (s *Server) state() state {
	s.mu.Lock()
	defer s.mu.Unlock()
	return state{leader: s.leader, enroller: s.enroller, disp: s.disp, members: s.members, log: s.log}
}

// redirect tells where to send a leader-only call: "" (serve it here), the leader's address, or
// an error when no leader is known.
func (st state) redirect() (string, error) {
	if st.leader == nil || st.leader.IsLeader() {
		return "", nil
	}
	if addr := st.leader.LeaderAddr(); addr != "" {
		return addr, nil
	}
	return "", errNoLeader
}

// Close stops the listener and ends the connections the server owns (Raft's belong to its
// transport, forwarded API connections to the API server, which Close also stops).
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	api, layer := s.api, s.raft
	s.mu.Unlock()
	if layer != nil {
		layer.Close()
	}
	if api != nil {
		api.Close()
	}
	s.wg.Wait()
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			s.state().log.Warn("transport: accept", "err", err)
			select {
			case <-time.After(50 * time.Millisecond):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
		}()
	}
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// handle authenticates one connection and hands it to the service its protocol names.
func (s *Server) handle(raw net.Conn) {
	tc := tls.Server(raw, s.tlsCfg)
	ctx, cancel := context.WithTimeout(s.ctx, handshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		s.state().log.Debug("transport: handshake refused", "remote", raw.RemoteAddr().String(), "err", err)
		tc.Close()
		s.untrack(raw)
		return
	}
	cs := tc.ConnectionState()
	switch cs.NegotiatedProtocol {
	case ProtoRaft, ProtoAPI:
		s.untrack(raw) // owned by the Raft transport or the API server from here
		var c net.Conn = tc
		s.mu.Lock()
		var q *connQueue
		if cs.NegotiatedProtocol == ProtoRaft && s.raft != nil {
			q = s.raft.q
		} else if cs.NegotiatedProtocol == ProtoAPI && s.apiH != nil {
			q = s.apiLn
			// not a *tls.Conn to net/http, which would refuse an ALPN protocol it does not know
			peer, err := identityOf(cs.PeerCertificates[0])
			if err != nil {
				q = nil
			}
			c = &apiConn{Conn: tc, peer: peer}
		}
		s.mu.Unlock()
		if q == nil || !q.push(c) {
			tc.Close()
		}
	case ProtoRPC:
		defer s.untrack(raw)
		peer, err := identityOf(cs.PeerCertificates[0])
		if err != nil { // VerifyConnection already checked it
			tc.Close()
			return
		}
		peer.Addr = raw.RemoteAddr().String()
		s.serveRPC(tc, &peer)
	case ProtoJoin:
		defer s.untrack(raw)
		s.serveRPC(tc, nil)
	default:
		s.untrack(raw)
		tc.Close()
	}
}

// connQueue is a net.Listener fed with connections the server accepted and authenticated.
type connQueue struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to whoever accepts; false when the queue is closed.
func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }
