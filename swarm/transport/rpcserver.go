package transport

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/ca"
)

const (
	callTimeout = 30 * time.Second // the longest a server-side call may take
	longPoll    = 15 * time.Second // how long Dispatcher.Assignments waits for a change
)

// serveRPC serves JSON-RPC on one connection until it closes. peer is nil on shoal-join, where
// only CA.Join is served.
func (s *Server) serveRPC(tc *tls.Conn, peer *Peer) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	srv := rpc.NewServer()
	conn := &ctxConn{Conn: tc, cancel: cancel, left: -1}
	if peer == nil {
		// an unauthenticated caller gets one small call's worth of time and bytes
		tc.SetDeadline(time.Now().Add(callTimeout + handshakeTimeout))
		conn.left = joinLimit
		srv.RegisterName("CA", &joinService{s: s, ctx: ctx, remote: tc.RemoteAddr().String()})
	} else {
		ds := &dispatcherService{s: s, ctx: ctx, peer: *peer, sessions: map[string]*serverSession{}}
		defer ds.closeAll()
		srv.RegisterName("CA", &caService{s: s, ctx: ctx, peer: *peer})
		srv.RegisterName("Dispatcher", ds)
		srv.RegisterName("Raft", &raftService{s: s, ctx: ctx, peer: *peer})
	}
	// a broken connection cancels ctx, which ends the long polls ServeCodec waits for
	srv.ServeCodec(jsonrpc.NewServerCodec(conn))
}

// joinLimit is the most a shoal-join connection may send.
const joinLimit = 64 << 10

// ctxConn cancels its connection's context when reading fails, and reads at most left bytes
// (unless left is negative).
type ctxConn struct {
	net.Conn
	cancel context.CancelFunc
	left   int64
}

func (c *ctxConn) Read(b []byte) (int, error) {
	if c.left == 0 {
		c.cancel()
		return 0, errors.New("transport: request too large")
	}
	if c.left > 0 && int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.Conn.Read(b)
	if c.left > 0 {
		c.left -= int64(n)
	}
	if err != nil {
		c.cancel()
	}
	return n, err
}

// CheckJoinToken tells which role a join token admits to, comparing it with the cluster's tokens
// in constant time; ErrInvalidJoinToken when it is neither.
func CheckJoinToken(token string, tokens swarm.JoinTokens) (swarm.NodeRole, error) {
	if _, err := ca.ParseToken(token); err != nil {
		return "", ErrInvalidJoinToken
	}
	switch {
	case tokens.Manager != "" && ca.SameSecret(token, tokens.Manager):
		return swarm.NodeRoleManager, nil
	case tokens.Worker != "" && ca.SameSecret(token, tokens.Worker):
		return swarm.NodeRoleWorker, nil
	}
	return "", ErrInvalidJoinToken
}

func parsePublicKey(der []byte) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, &StatusError{Code: CodeInvalidArgument, Desc: "invalid public key: " + err.Error()}
	}
	return pub, nil
}

// joinService serves shoal-join: enrolment of a node that has no certificate yet.
type joinService struct {
	s      *Server
	ctx    context.Context
	remote string
}

// Join is CA.Join.
func (j *joinService) Join(req JoinRequest, reply *JoinReply) error {
	st := j.s.state()
	leader, err := st.redirect()
	if err != nil || leader != "" {
		reply.Leader = leader
		return err
	}
	if st.enroller == nil {
		return errNotServed("enrolment")
	}
	role, err := CheckJoinToken(req.Token, st.enroller.JoinTokens())
	if err != nil {
		st.log.Info("transport: join refused", "remote", j.remote, "err", err)
		return err
	}
	pub, err := parsePublicKey(req.PublicKey)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(j.ctx, callTimeout)
	defer cancel()
	enr, err := st.enroller.Enroll(ctx, EnrollRequest{Role: role, AdvertiseAddr: req.AdvertiseAddr, RemoteAddr: j.remote, PublicKey: pub})
	if err != nil {
		return toStatus(err)
	}
	reply.Enrollment = enr
	return nil
}

// caService serves certificate renewal to authenticated nodes.
type caService struct {
	s    *Server
	ctx  context.Context
	peer Peer
}

// Renew is CA.Renew.
func (c *caService) Renew(req RenewRequest, reply *RenewReply) error {
	st := c.s.state()
	leader, err := st.redirect()
	if err != nil || leader != "" {
		reply.Leader = leader
		return err
	}
	if st.enroller == nil {
		return errNotServed("certificates")
	}
	pub, err := parsePublicKey(req.PublicKey)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, callTimeout)
	defer cancel()
	cert, err := st.enroller.Renew(ctx, c.peer, pub)
	if err != nil {
		return toStatus(err)
	}
	reply.CertPEM = cert
	return nil
}

// raftService serves Raft membership to managers.
type raftService struct {
	s    *Server
	ctx  context.Context
	peer Peer
}

// AddManager is Raft.AddManager.
func (r *raftService) AddManager(req AddManagerRequest, reply *AddManagerReply) error {
	if r.peer.Role != swarm.NodeRoleManager {
		return &StatusError{Code: CodePermissionDenied, Desc: "Permission denied: remote certificate not part of organizational unit " + ca.OUManager}
	}
	st := r.s.state()
	leader, err := st.redirect()
	if err != nil || leader != "" {
		reply.Leader = leader
		return err
	}
	if st.members == nil {
		return errNotServed("Raft membership")
	}
	if _, _, err := net.SplitHostPort(req.Addr); err != nil {
		return &StatusError{Code: CodeInvalidArgument, Desc: err.Error()}
	}
	ctx, cancel := context.WithTimeout(r.ctx, callTimeout)
	defer cancel()
	return toStatus(st.members.AddManager(ctx, r.peer.NodeID, req.Addr))
}
