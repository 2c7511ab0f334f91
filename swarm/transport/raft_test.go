package transport

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
)

// raftMembers is the Members swarm/node will provide.
type raftMembers struct{ n *raft.Node }

func (m raftMembers) AddManager(ctx context.Context, nodeID, addr string) error {
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	return m.n.Raft().AddVoter(hraft.ServerID(nodeID), hraft.ServerAddress(addr), 0, timeout).Error()
}

type raftMember struct {
	id, addr string
	creds    *Credentials
	srv      *Server
	st       *store.Store
	rn       *raft.Node
	stopped  bool
}

func (m *raftMember) stop() {
	if !m.stopped {
		m.stopped = true
		m.rn.Shutdown()
		m.srv.Close()
	}
}

func openRaftMember(t *testing.T, cl *testCluster, i int, bootstrap bool) *raftMember {
	t.Helper()
	m := &raftMember{id: fmt.Sprintf("m%d", i), st: store.New(nil)}
	m.creds = cl.manager(t, m.id)
	m.srv, m.addr = listen(t, m.creds)
	trans, err := NewRaftTransport(m.srv, m.addr, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	m.rn, err = raft.Open(raft.Config{Dir: t.TempDir(), ID: m.id, Addr: m.addr, Transport: trans, Bootstrap: bootstrap,
		Logger: quietLog(), HeartbeatTimeout: 400 * time.Millisecond, ElectionTimeout: 400 * time.Millisecond}, m.st)
	if err != nil {
		t.Fatal(err)
	}
	m.st.SetProposer(m.rn)
	m.srv.SetLeadership(m.rn)
	m.srv.ServeMembers(raftMembers{m.rn})
	t.Cleanup(m.stop)
	return m
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func createNode(ctx context.Context, st *store.Store, id string) error {
	n := &store.Node{}
	n.ID = id
	return st.Update(ctx, func(tx store.Tx) error { return tx.Create(n) })
}

func hasNode(st *store.Store, id string) bool {
	var ok bool
	st.View(func(tx store.ReadTx) { ok = tx.GetNode(id) != nil })
	return ok
}

// Three managers run swarm/raft over the channel: they join through Raft.AddManager (one of them
// asking a follower, which sends it to the leader), replicate writes, and elect a new leader when
// the first one stops.
func TestRaftOverChannel(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	m0 := openRaftMember(t, cl, 0, true)
	if err := m0.rn.WaitLeader(ctxT(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	m1 := openRaftMember(t, cl, 1, false)
	m2 := openRaftMember(t, cl, 2, false)
	if err := NewClient(m1.creds, []string{m0.addr}).AddManager(ctxT(t, 20*time.Second), m1.addr); err != nil {
		t.Fatalf("add m1: %v", err)
	}
	waitFor(t, 20*time.Second, "m1 to know the leader", func() bool { return m1.rn.LeaderAddr() == m0.addr })
	c2 := NewClient(m2.creds, []string{m1.addr}) // a follower: it redirects to the leader
	if err := c2.AddManager(ctxT(t, 20*time.Second), m2.addr); err != nil {
		t.Fatalf("add m2 through a follower: %v", err)
	}
	if got := c2.Managers(); got[0] != m0.addr {
		t.Fatalf("client did not learn the leader: %v", got)
	}
	servers, err := m0.rn.Servers()
	if err != nil || len(servers) != 3 {
		t.Fatalf("raft configuration %v %v", servers, err)
	}

	if err := createNode(ctxT(t, 20*time.Second), m0.st, "n1"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*raftMember{m1, m2} {
		waitFor(t, 20*time.Second, "replication to "+m.id, func() bool { return hasNode(m.st, "n1") })
	}

	// a worker cannot ask to become a Raft voter
	w := cl.worker(t, "w1")
	err = NewClient(w, []string{m0.addr}).AddManager(ctxT(t, 20*time.Second), "127.0.0.1:1")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != CodePermissionDenied {
		t.Fatalf("worker asking to be a manager: %v", err)
	}

	m0.stop()
	var leader, follower *raftMember
	waitFor(t, 30*time.Second, "a new leader", func() bool {
		switch {
		case m1.rn.IsLeader():
			leader, follower = m1, m2
		case m2.rn.IsLeader():
			leader, follower = m2, m1
		}
		return leader != nil
	})
	if err := leader.rn.WaitLeader(ctxT(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := createNode(ctxT(t, 20*time.Second), leader.st, "n2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "replication after the new election", func() bool { return hasNode(follower.st, "n2") })
}

// A worker's certificate cannot carry Raft traffic: a Raft transport holding one never reaches a
// manager's Raft.
func TestRaftRefusesWorker(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	m := cl.manager(t, "m1")
	srv, addr := listen(t, m)
	layer, err := srv.RaftLayer(addr)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := layer.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	wsrv, waddr := listen(t, cl.worker(t, "w1"))
	wlayer, err := wsrv.RaftLayer(waddr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := wlayer.Dial(hraft.ServerAddress(addr), 5*time.Second)
	if err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte{0})
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil {
		t.Fatal("worker's raft connection was served")
	}
	select {
	case <-accepted:
		t.Fatal("raft layer accepted a worker's connection")
	default:
	}
	// a second layer on the same listener is refused until the first closes
	if _, err := srv.RaftLayer(addr); err == nil {
		t.Fatal("two raft layers on one listener")
	}
	layer.Close()
	if l, err := srv.RaftLayer(addr); err != nil {
		t.Fatalf("new layer after close: %v", err)
	} else {
		l.Close()
	}
}
