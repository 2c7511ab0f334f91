package transport

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// StreamLayer is hashicorp/raft's StreamLayer over the channel: Accept yields the shoal-raft
// connections of other managers, Dial opens one with this node's certificate.
type StreamLayer struct {
	s    *Server
	q    *connQueue
	addr raftAddr

	mu    sync.Mutex
	conns map[*trackedConn]struct{} // accepted, closed with the layer
}

var _ hraft.StreamLayer = (*StreamLayer)(nil)

type raftAddr string

func (a raftAddr) Network() string { return "tcp" }
func (a raftAddr) String() string  { return string(a) }

// RaftLayer makes the Raft stream layer of this server; advertise is the address other managers
// dial (this node's Raft server address). There is at most one open layer per server.
func (s *Server) RaftLayer(advertise string) (*StreamLayer, error) {
	if _, _, err := net.SplitHostPort(advertise); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, net.ErrClosed
	}
	if s.raft != nil {
		return nil, errors.New("transport: a Raft layer is already open on this listener")
	}
	l := &StreamLayer{s: s, q: newConnQueue(raftAddr(advertise)), addr: raftAddr(advertise),
		conns: map[*trackedConn]struct{}{}}
	s.raft = l
	return l, nil
}

// NewRaftTransport is the Raft transport over the channel for raft.Config.Transport; closing it
// (raft.Node.Shutdown does) closes its layer, and a new one may then be made.
func NewRaftTransport(s *Server, advertise string, log *slog.Logger) (hraft.Transport, error) {
	l, err := s.RaftLayer(advertise)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return hraft.NewNetworkTransportWithConfig(&hraft.NetworkTransportConfig{
		Stream:  l,
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  hclog.New(&hclog.LoggerOptions{Name: "raft-net", Level: hclog.Warn, Output: slogWriter{log}}),
	}), nil
}

// Accept implements net.Listener.
func (l *StreamLayer) Accept() (net.Conn, error) {
	c, err := l.q.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

// Close implements net.Listener: it stops accepting, closes the accepted connections and frees the
// server for a new layer.
func (l *StreamLayer) Close() error {
	l.q.Close()
	l.s.mu.Lock()
	if l.s.raft == l {
		l.s.raft = nil
	}
	l.s.mu.Unlock()
	l.mu.Lock()
	conns := l.conns
	l.conns = map[*trackedConn]struct{}{}
	l.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
	return nil
}

// Addr implements net.Listener: the advertised address.
func (l *StreamLayer) Addr() net.Addr { return l.addr }

// Dial implements raft.StreamLayer: a shoal-raft connection to the manager at address.
func (l *StreamLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return dialTLS(ctx, string(address), clientConfig(l.s.src, ProtoRaft))
}

// trackedConn is an accepted Raft connection that leaves its layer's set when closed.
type trackedConn struct {
	net.Conn
	l    *StreamLayer
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// slogWriter sends hclog's lines to slog.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	w.l.Warn(string(b), "component", "raft-net")
	return n, nil
}
