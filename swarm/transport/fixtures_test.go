package transport

import (
	"context"
	"crypto"
	"crypto/tls"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/ca"
)

// testCluster is a root CA and a cluster ID that tests issue node certificates from.
type testCluster struct {
	root *ca.RootCA
	id   string
}

func newTestCluster(t *testing.T, id string) *testCluster {
	t.Helper()
	root, err := ca.NewRootCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &testCluster{root: root, id: id}
}

// issue makes credentials for a node, valid from now-1h until now+expiry (0: 90 days).
func (c *testCluster) issue(t *testing.T, nodeID, ou string, now time.Time, expiry time.Duration) *Credentials {
	t.Helper()
	key, keyPEM, err := NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := c.root.IssueNodeCert(&key.PublicKey, nodeID, ou, c.id, now, expiry)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := NewCredentials(certPEM, keyPEM, c.root)
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

func (c *testCluster) manager(t *testing.T, nodeID string) *Credentials {
	return c.issue(t, nodeID, ca.OUManager, time.Now(), 0)
}

func (c *testCluster) worker(t *testing.T, nodeID string) *Credentials {
	return c.issue(t, nodeID, ca.OUWorker, time.Now(), 0)
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// listen starts a channel on a random loopback port, closed when the test ends.
func listen(t *testing.T, src TLSSource) (*Server, string) {
	t.Helper()
	s, err := Listen("127.0.0.1:0", src)
	if err != nil {
		t.Fatal(err)
	}
	s.SetLogger(quietLog())
	t.Cleanup(func() { s.Close() })
	return s, s.Addr().String()
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// leadership is a Leadership the test flips.
type leadership struct {
	mu     sync.Mutex
	leader bool
	addr   string
}

func (l *leadership) set(leader bool, addr string) {
	l.mu.Lock()
	l.leader, l.addr = leader, addr
	l.mu.Unlock()
}

func (l *leadership) IsLeader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader
}

func (l *leadership) LeaderAddr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// testEnroller issues certificates from the cluster root, as swarm/node's will.
type testEnroller struct {
	c        *testCluster
	tokens   swarm.JoinTokens
	managers []Manager
	enrolled atomic.Int32
	last     EnrollRequest
	mu       sync.Mutex
}

func newTestEnroller(c *testCluster) *testEnroller {
	return &testEnroller{c: c, tokens: swarm.JoinTokens{Worker: ca.GenerateToken(c.root), Manager: ca.GenerateToken(c.root)}}
}

func (e *testEnroller) JoinTokens() swarm.JoinTokens { return e.tokens }

func ouOf(role swarm.NodeRole) string {
	if role == swarm.NodeRoleManager {
		return ca.OUManager
	}
	return ca.OUWorker
}

func (e *testEnroller) Enroll(ctx context.Context, req EnrollRequest) (Enrollment, error) {
	e.enrolled.Add(1)
	e.mu.Lock()
	e.last = req
	e.mu.Unlock()
	id := "node" + string(rune('a'+e.enrolled.Load()))
	cert, err := e.c.root.IssueNodeCert(req.PublicKey, id, ouOf(req.Role), e.c.id, time.Now(), 0)
	if err != nil {
		return Enrollment{}, err
	}
	return Enrollment{NodeID: id, Role: req.Role, ClusterID: e.c.id, CertPEM: cert, RootPEM: e.c.root.CertPEM, Managers: e.managers}, nil
}

func (e *testEnroller) Renew(ctx context.Context, node Peer, pub crypto.PublicKey) ([]byte, error) {
	return e.c.root.IssueNodeCert(pub, node.NodeID, ouOf(node.Role), e.c.id, time.Now(), 0)
}

// noCert presents no client certificate while trusting the cluster's managers.
func noCert(cfg *tls.Config) *tls.Config {
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tls.Certificate{}, nil }
	return cfg
}
