package transport

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/rpc"
	"net/rpc/jsonrpc"
	"sync"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
)

// Client is a node's side of the channel for the services that need a certificate: agent
// sessions (it implements agent.Dispatcher), certificate renewal and Raft membership. It keeps the
// managers' addresses it knows, the one that last answered as leader first, and follows a
// manager's redirect to the leader. Safe for concurrent use.
type Client struct {
	src TLSSource

	mu       sync.Mutex
	managers []string
}

var _ agent.Dispatcher = (*Client)(nil)

// NewClient makes a client that reaches the managers at addrs (channel addresses).
func NewClient(src TLSSource, addrs []string) *Client {
	c := &Client{src: src}
	c.SetManagers(addrs)
	return c
}

// SetManagers replaces the managers' addresses, keeping the known leader first if it is still one.
func (c *Client) SetManagers(addrs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first string
	if len(c.managers) > 0 {
		first = c.managers[0]
	}
	c.managers = nil
	for _, a := range addrs {
		if a == first {
			c.managers = append(c.managers, a)
		}
	}
	for _, a := range addrs {
		if a != first && a != "" {
			c.managers = append(c.managers, a)
		}
	}
}

// Managers are the known managers' addresses, the last known leader first.
func (c *Client) Managers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.managers...)
}

// promote puts addr first (it answered as leader).
func (c *Client) promote(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []string{addr}
	for _, a := range c.managers {
		if a != addr {
			out = append(out, a)
		}
	}
	c.managers = out
}

// Session implements agent.Dispatcher: it opens a session with the leader. The node is the one
// this client's certificate names; nodeID, when set, must be that one.
func (c *Client) Session(ctx context.Context, nodeID string, desc swarm.NodeDescription) (agent.Session, error) {
	self, _, err := localIdentity(c.src)
	if err != nil {
		return nil, err
	}
	if nodeID != "" && nodeID != self.NodeID {
		return nil, fmt.Errorf("transport: session for node %s with the certificate of %s", nodeID, self.NodeID)
	}
	var sess *clientSession
	err = c.try(ctx, func(addr string) (string, error) {
		rc, err := dialRPC(ctx, addr, clientConfig(c.src, ProtoRPC))
		if err != nil {
			return "", err
		}
		var reply OpenReply
		if err := call(ctx, rc, "Dispatcher.Open", OpenRequest{Description: desc}, &reply); err != nil {
			rc.Close()
			return "", err
		}
		if reply.Session == "" {
			rc.Close()
			if reply.Leader == "" {
				return "", errNoLeader
			}
			return reply.Leader, nil
		}
		sess = newClientSession(rc, reply.Session)
		return "", nil
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// Renew asks the leader for a new certificate for pub (same node, its current role). The answer is
// checked: signed by the root, for pub, naming this node.
func (c *Client) Renew(ctx context.Context, pub crypto.PublicKey) ([]byte, error) {
	self, _, err := localIdentity(c.src)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var certPEM []byte
	err = c.try(ctx, func(addr string) (string, error) {
		var r RenewReply
		if err := oneShot(ctx, addr, clientConfig(c.src, ProtoRPC), "CA.Renew", RenewRequest{PublicKey: der}, &r); err != nil {
			return "", err
		}
		certPEM = r.CertPEM
		return r.Leader, nil
	})
	if err != nil {
		return nil, err
	}
	cert, err := checkIssued(certPEM, c.src.Root().Cert, pub)
	if err != nil {
		return nil, err
	}
	if id, err := identityOf(cert); err != nil || id.NodeID != self.NodeID || id.ClusterID != self.ClusterID {
		return nil, fmt.Errorf("transport: renewed certificate names another node (%v)", err)
	}
	return certPEM, nil
}

// AddManager asks the leader to make this manager a Raft voter at addr, its channel address.
func (c *Client) AddManager(ctx context.Context, addr string) error {
	return c.try(ctx, func(m string) (string, error) {
		var r AddManagerReply
		if err := oneShot(ctx, m, clientConfig(c.src, ProtoRPC), "Raft.AddManager", AddManagerRequest{Addr: addr}, &r); err != nil {
			return "", err
		}
		return r.Leader, nil
	})
}

// try runs f against the known managers until one serves the call: f returns the leader's
// address when the manager it asked does not lead, and that address is tried next. An answer
// other than Unavailable from a manager ends the search.
func (c *Client) try(ctx context.Context, f func(addr string) (leader string, err error)) error {
	addrs := c.Managers()
	if len(addrs) == 0 {
		return errors.New("transport: no manager address known")
	}
	tried := map[string]bool{}
	var lastErr error
	for _, addr := range addrs {
		for addr != "" && !tried[addr] {
			tried[addr] = true
			leader, err := f(addr)
			if err == nil && leader == "" {
				c.promote(addr)
				return nil
			}
			if err != nil {
				lastErr = err
				var se *StatusError
				if ctx.Err() != nil || (errors.As(err, &se) && se.Code != CodeUnavailable) {
					return err
				}
				break
			}
			lastErr = errNoLeader
			addr = leader
		}
	}
	return lastErr
}

func dialRPC(ctx context.Context, addr string, cfg *tls.Config) (*rpc.Client, error) {
	tc, err := dialTLS(ctx, addr, cfg)
	if err != nil {
		return nil, err
	}
	return newRPCClient(tc), nil
}

// call runs one RPC, giving up (not waiting for the answer) when ctx ends.
func call(ctx context.Context, rc *rpc.Client, method string, args, reply any) error {
	c := rc.Go(method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-c.Done:
		return fromWire(c.Error)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// oneShot runs one RPC on a connection of its own.
func oneShot(ctx context.Context, addr string, cfg *tls.Config, method string, args, reply any) error {
	rc, err := dialRPC(ctx, addr, cfg)
	if err != nil {
		return err
	}
	defer rc.Close()
	return call(ctx, rc, method, args, reply)
}

// checkIssued parses a node certificate and checks that root signed it for pub.
func checkIssued(certPEM []byte, root *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return nil, errors.New("transport: no certificate in the answer")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, err
	}
	if err := cert.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("transport: issued certificate is not signed by the cluster root: %w", err)
	}
	want, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	got, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil || !bytes.Equal(want, got) {
		return nil, errors.New("transport: issued certificate is for another key")
	}
	return cert, nil
}

func newRPCClient(tc *tls.Conn) *rpc.Client { return jsonrpc.NewClient(tc) }
