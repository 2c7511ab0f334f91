package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/shoal-project/shoal/swarm/ca"
)

// reach tells whether the service of proto at addr answers a client configured with cfg: nil when
// it did, the error otherwise.
func reach(ctx context.Context, addr, proto string, cfg *tls.Config) error {
	switch proto {
	case ProtoRPC:
		rc, err := dialRPC(ctx, addr, cfg)
		if err != nil {
			return err
		}
		defer rc.Close()
		err = call(ctx, rc, "Dispatcher.Heartbeat", SessionRequest{Session: "none"}, &HeartbeatReply{})
		if errors.Is(err, errNoSession) {
			return nil
		}
		return fmt.Errorf("heartbeat of no session: %v", err)
	case ProtoJoin:
		rc, err := dialRPC(ctx, addr, cfg)
		if err != nil {
			return err
		}
		defer rc.Close()
		err = call(ctx, rc, "CA.Join", JoinRequest{Token: "SWMTKN-1-bad"}, &JoinReply{})
		if errors.Is(err, ErrInvalidJoinToken) {
			return nil
		}
		return fmt.Errorf("join with a bad token: %v", err)
	case ProtoRaft:
		tc, err := dialTLS(ctx, addr, cfg)
		if err != nil {
			return err
		}
		defer tc.Close()
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := tc.Write([]byte("x")); err != nil {
			return err
		}
		b := make([]byte, 1)
		if _, err := io.ReadFull(tc, b); err != nil {
			return err
		}
		if b[0] != 'x' {
			return fmt.Errorf("echo %q", b)
		}
		return nil
	case ProtoAPI:
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, a string) (net.Conn, error) {
			return dialTLS(ctx, a, cfg)
		}}}
		defer hc.CloseIdleConnections()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/_ping", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	return fmt.Errorf("no probe for %s", proto)
}

// echoRaft accepts the Raft connections of srv and echoes one byte on each.
func echoRaft(t *testing.T, srv *Server, addr string) {
	t.Helper()
	layer, err := srv.RaftLayer(addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := layer.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := make([]byte, 1)
				if _, err := io.ReadFull(c, b); err == nil {
					c.Write(b)
				}
			}()
		}
	}()
}

func TestMutualTLS(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	other := newTestCluster(t, "cluster1") // another root, same cluster ID
	srv, addr := listen(t, cl.manager(t, "m1"))
	echoRaft(t, srv, addr)
	srv.ServeEnroller(newTestEnroller(cl))
	srv.ServeAPI(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("OK")) }))
	srv.ServeDispatcher(nil) // sessions are not needed: a heartbeat of an unknown session is answered first

	mgr := cl.manager(t, "m2")
	wrk := cl.worker(t, "w1")
	expired := cl.issue(t, "m3", ca.OUManager, time.Now().Add(-100*24*time.Hour), 24*time.Hour)
	otherCluster := &testCluster{root: cl.root, id: "cluster2"}
	foreignID := otherCluster.manager(t, "m4")
	foreign := func(proto string) *tls.Config {
		cfg := clientConfig(other.manager(t, "m5"), proto)
		cfg.RootCAs = cl.root.Pool() // it trusts the server; the server must not trust it
		cfg.VerifyConnection = nil
		return cfg
	}
	foreignO := func(proto string) *tls.Config {
		cfg := clientConfig(foreignID, proto)
		cfg.VerifyConnection = nil
		return cfg
	}
	join := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{ProtoJoin}, InsecureSkipVerify: true}
	unknown := clientConfig(mgr, ProtoRPC)
	unknown.NextProtos = []string{"h2"}
	two := clientConfig(mgr, ProtoRPC)
	two.NextProtos = []string{ProtoJoin, ProtoRaft}

	for _, tc := range []struct {
		name, proto string
		cfg         *tls.Config
		ok          bool
	}{
		{"manager on rpc", ProtoRPC, clientConfig(mgr, ProtoRPC), true},
		{"worker on rpc", ProtoRPC, clientConfig(wrk, ProtoRPC), true},
		{"manager on raft", ProtoRaft, clientConfig(mgr, ProtoRaft), true},
		{"manager on api", ProtoAPI, clientConfig(mgr, ProtoAPI), true},
		{"no certificate on join", ProtoJoin, join, true},
		{"no certificate on rpc", ProtoRPC, noCert(clientConfig(mgr, ProtoRPC)), false},
		{"no certificate on raft", ProtoRaft, noCert(clientConfig(mgr, ProtoRaft)), false},
		{"no certificate on api", ProtoAPI, noCert(clientConfig(mgr, ProtoAPI)), false},
		{"worker on raft", ProtoRaft, clientConfig(wrk, ProtoRaft), false},
		{"worker on api", ProtoAPI, clientConfig(wrk, ProtoAPI), false},
		{"another root on rpc", ProtoRPC, foreign(ProtoRPC), false},
		{"another root on raft", ProtoRaft, foreign(ProtoRaft), false},
		{"another cluster ID on rpc", ProtoRPC, foreignO(ProtoRPC), false},
		{"another cluster ID on raft", ProtoRaft, foreignO(ProtoRaft), false},
		{"expired on rpc", ProtoRPC, clientConfig(expired, ProtoRPC), false},
		{"expired on raft", ProtoRaft, clientConfig(expired, ProtoRaft), false},
		{"unknown protocol", ProtoRPC, unknown, false},
		{"two protocols", ProtoRPC, two, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := reach(ctxT(t, 20*time.Second), addr, tc.proto, tc.cfg)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatal("accepted")
				}
				if os.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("not refused, timed out: %v", err)
				}
			}
		})
	}
}

// A node with a certificate only talks to managers of its own cluster.
func TestClientRefusesNonManagerServer(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	_, addr := listen(t, cl.worker(t, "w1"))
	err := reach(ctxT(t, 20*time.Second), addr, ProtoRPC, clientConfig(cl.manager(t, "m1"), ProtoRPC))
	if err == nil {
		t.Fatal("client talked to a worker as to a manager")
	}
	other := newTestCluster(t, "cluster2")
	_, addr2 := listen(t, other.manager(t, "m9"))
	if err := reach(ctxT(t, 20*time.Second), addr2, ProtoRPC, clientConfig(cl.manager(t, "m1"), ProtoRPC)); err == nil {
		t.Fatal("client talked to a manager of another cluster")
	}
}

// A renewed certificate is presented by the next handshake, without restarting the listener.
func TestCertificateReload(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	creds := cl.manager(t, "m1")
	_, addr := listen(t, creds)
	peerCert := func() []byte {
		tc, err := dialTLS(ctxT(t, 10*time.Second), addr, clientConfig(cl.worker(t, "w1"), ProtoRPC))
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		return tc.ConnectionState().PeerCertificates[0].Raw
	}
	first := peerCert()
	cur, _ := creds.Certificate()
	if !bytes.Equal(first, cur.Certificate[0]) {
		t.Fatal("server did not present its certificate")
	}
	key, keyPEM, err := NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := cl.root.IssueNodeCert(&key.PublicKey, "m1", ca.OUManager, "cluster1", time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := creds.Update(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	second := peerCert()
	cur, _ = creds.Certificate()
	if bytes.Equal(first, second) || !bytes.Equal(second, cur.Certificate[0]) {
		t.Fatal("renewed certificate not presented")
	}
	// a certificate of another node cannot replace this one
	otherPEM, _ := cl.root.IssueNodeCert(&key.PublicKey, "m2", ca.OUManager, "cluster1", time.Now(), 0)
	if err := creds.Update(otherPEM, keyPEM); err == nil {
		t.Fatal("certificate of another node accepted")
	}
}
