package transport

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/ca"
)

func TestJoin(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	enr := newTestEnroller(cl)
	enr.managers = []Manager{{NodeID: "m1", Addr: addr}}
	srv.ServeEnroller(enr)

	for _, tc := range []struct {
		name  string
		token string
		role  swarm.NodeRole
	}{
		{"worker token", enr.tokens.Worker, swarm.NodeRoleWorker},
		{"manager token", enr.tokens.Manager, swarm.NodeRoleManager},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, keyPEM, err := NewNodeKey()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Join(ctxT(t, 20*time.Second), addr, tc.token, "127.0.0.1:2377", &key.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if got.Role != tc.role || got.ClusterID != "cluster1" || got.NodeID == "" ||
				len(got.Managers) != 1 || got.Managers[0].Addr != addr {
				t.Fatalf("enrolment %+v", got)
			}
			enr.mu.Lock()
			last := enr.last
			enr.mu.Unlock()
			if last.Role != tc.role || last.AdvertiseAddr != "127.0.0.1:2377" || !strings.HasPrefix(last.RemoteAddr, "127.0.0.1:") {
				t.Fatalf("enroller asked %+v", last)
			}
			// the enrolment is usable: the new node reaches the manager with it
			root, err := ca.ParseRootCA(got.RootPEM, nil)
			if err != nil {
				t.Fatal(err)
			}
			creds, err := NewCredentials(got.CertPEM, keyPEM, root)
			if err != nil {
				t.Fatal(err)
			}
			if id := creds.Identity(); id.NodeID != got.NodeID || id.Role != tc.role {
				t.Fatalf("certificate names %+v", id)
			}
			if err := reach(ctxT(t, 20*time.Second), addr, ProtoRPC, clientConfig(creds, ProtoRPC)); err != nil {
				t.Fatalf("enrolled node refused: %v", err)
			}
		})
	}

	t.Run("token of another cluster", func(t *testing.T) {
		other := newTestCluster(t, "cluster2")
		before := enr.enrolled.Load()
		key, _, _ := NewNodeKey()
		_, err := Join(ctxT(t, 20*time.Second), addr, ca.GenerateToken(other.root), "", &key.PublicKey)
		if !errors.Is(err, ca.ErrWrongCluster) || !strings.HasPrefix(err.Error(), "remote CA does not match fingerprint. Expected: ") {
			t.Fatalf("error %v", err)
		}
		if hexDigest := strings.TrimPrefix(err.Error(), "remote CA does not match fingerprint. Expected: "); len(hexDigest) != 64 {
			t.Fatalf("expected digest %q", hexDigest)
		}
		if enr.enrolled.Load() != before {
			t.Fatal("the manager was asked to enrol a node that does not trust it")
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		before := enr.enrolled.Load()
		key, _, _ := NewNodeKey()
		_, err := Join(ctxT(t, 20*time.Second), addr, ca.GenerateToken(cl.root), "", &key.PublicKey)
		const want = "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster"
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalidJoinToken) {
			t.Fatalf("error %v, want %q", err, want)
		}
		if enr.enrolled.Load() != before {
			t.Fatal("enrolled with a wrong secret")
		}
	})

	t.Run("malformed token", func(t *testing.T) {
		key, _, _ := NewNodeKey()
		if _, err := Join(ctxT(t, 20*time.Second), addr, "SWMTKN-1-nope", "", &key.PublicKey); !errors.Is(err, ca.ErrInvalidToken) {
			t.Fatalf("error %v", err)
		}
	})

	t.Run("through a follower", func(t *testing.T) {
		fsrv, faddr := listen(t, cl.manager(t, "m2"))
		fsrv.SetLeadership(&leadership{leader: false, addr: addr})
		key, _, _ := NewNodeKey()
		got, err := Join(ctxT(t, 20*time.Second), faddr, enr.tokens.Worker, "", &key.PublicKey)
		if err != nil || got.Role != swarm.NodeRoleWorker {
			t.Fatalf("join through follower: %+v %v", got, err)
		}
		// with no leader known the join fails with Docker's text
		fsrv.SetLeadership(&leadership{})
		_, err = Join(ctxT(t, 20*time.Second), faddr, enr.tokens.Worker, "", &key.PublicKey)
		if err == nil || !strings.Contains(err.Error(), "The swarm does not have a leader") {
			t.Fatalf("error %v", err)
		}
	})
}

// A manager that presents the right root but is not a manager certificate is not trusted by a
// joining node.
func TestJoinRefusesWorkerServer(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.worker(t, "w1"))
	srv.ServeEnroller(newTestEnroller(cl))
	key, _, _ := NewNodeKey()
	if _, err := Join(ctxT(t, 20*time.Second), addr, ca.GenerateToken(cl.root), "", &key.PublicKey); err == nil ||
		errors.Is(err, ErrInvalidJoinToken) {
		t.Fatalf("joining node trusted a worker: %v", err)
	}
}

func TestRenew(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	srv.ServeEnroller(newTestEnroller(cl))
	creds := cl.worker(t, "w1")
	c := NewClient(creds, []string{addr})
	key, keyPEM, _ := NewNodeKey()
	certPEM, err := c.Renew(ctxT(t, 20*time.Second), &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := creds.Update(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	if id := creds.Identity(); id.NodeID != "w1" || id.Role != swarm.NodeRoleWorker {
		t.Fatalf("renewed identity %+v", id)
	}
	cur, _ := creds.Certificate()
	if !key.PublicKey.Equal(cur.Leaf.PublicKey) {
		t.Fatal("renewed certificate is not for the new key")
	}
	// the renewed certificate works
	if err := reach(ctxT(t, 20*time.Second), addr, ProtoRPC, clientConfig(creds, ProtoRPC)); err != nil {
		t.Fatal(err)
	}
	// a node without the enroller attached is refused with a status
	srv.ServeEnroller(nil)
	_, err = c.Renew(ctxT(t, 20*time.Second), &key.PublicKey)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != CodeUnavailable {
		t.Fatalf("error %v", err)
	}
}

// A caller without a certificate cannot send the manager more than one small call's worth.
func TestJoinConnectionLimit(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	srv.ServeEnroller(newTestEnroller(cl))
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{ProtoJoin}, InsecureSkipVerify: true}
	rc, err := dialRPC(ctxT(t, 20*time.Second), addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	err = call(ctxT(t, 20*time.Second), rc, "CA.Join", JoinRequest{Token: strings.Repeat("x", joinLimit)}, &JoinReply{})
	if err == nil || errors.Is(err, ErrInvalidJoinToken) {
		t.Fatalf("oversized join answered: %v", err)
	}
}
