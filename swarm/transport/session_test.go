package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/dispatcher"
	"github.com/shoal-project/shoal/swarm/store"
)

func newTask(id, nodeID string, state swarm.TaskState) *store.Task {
	tk := &store.Task{}
	tk.ID, tk.NodeID, tk.ServiceID, tk.Slot = id, nodeID, "s1", 1
	tk.Status.State, tk.DesiredState = state, swarm.TaskStateRunning
	return tk
}

// sessionStore holds node w1 with task t1 assigned to it and t2 still pending.
func sessionStore(t *testing.T) *store.Store {
	t.Helper()
	st := store.New(nil)
	n := &store.Node{}
	n.ID = "w1"
	n.Status.State = swarm.NodeStateUnknown
	err := st.Update(context.Background(), func(tx store.Tx) error {
		for _, o := range []store.Object{n, newTask("t1", "w1", swarm.TaskStateAssigned), newTask("t2", "w1", swarm.TaskStatePending)} {
			if err := tx.Create(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// nextSet waits for a task set that satisfies ok.
func nextSet(t *testing.T, s agent.Session, what string, ok func([]agent.Task) bool) []agent.Task {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ts := <-s.Assignments():
			if ok(ts) {
				return ts
			}
		case <-s.Done():
			t.Fatalf("session ended waiting for %s", what)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func ids(ts []agent.Task) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestAgentSession(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	st := sessionStore(t)
	srv.ServeDispatcher(dispatcher.New(st, quietLog()))
	c := NewClient(cl.worker(t, "w1"), []string{addr})
	ctx := ctxT(t, 30*time.Second)

	if _, err := c.Session(ctx, "w2", swarm.NodeDescription{}); err == nil {
		t.Fatal("session for a node other than the certificate's")
	}
	s, err := c.Session(ctx, "w1", swarm.NodeDescription{Hostname: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n *store.Node
	st.View(func(tx store.ReadTx) { n = tx.GetNode("w1") })
	if n.Status.State != swarm.NodeStateReady || n.Description.Hostname != "h1" || n.Status.Addr != "127.0.0.1" {
		t.Fatalf("node after open: %+v %+v", n.Status, n.Description)
	}

	ts := nextSet(t, s, "first assignments", func(ts []agent.Task) bool { return true })
	if got := ids(ts); len(got) != 1 || got[0] != "t1" {
		t.Fatalf("assigned %v, want [t1]", got)
	}

	up := agent.StatusUpdate{TaskID: "t1", Status: swarm.TaskStatus{State: swarm.TaskStateRunning, Timestamp: time.Now(), Message: "started"}}
	if err := s.UpdateStatus(ctx, []agent.StatusUpdate{up}); err != nil {
		t.Fatal(err)
	}
	var tk *store.Task
	st.View(func(tx store.ReadTx) { tk = tx.GetTask("t1") })
	if tk.Status.State != swarm.TaskStateRunning || tk.Status.Message != "started" {
		t.Fatalf("task status in store %+v", tk.Status)
	}
	nextSet(t, s, "running t1", func(ts []agent.Task) bool {
		return len(ts) == 1 && ts[0].Status.State == swarm.TaskStateRunning
	})

	period, err := s.Heartbeat(ctx)
	if err != nil || period != 5*time.Second {
		t.Fatalf("heartbeat %v %v", period, err)
	}

	// a task assigned later arrives
	err = st.Update(ctx, func(tx store.Tx) error {
		cur := tx.GetTask("t2").Copy()
		cur.Status.State = swarm.TaskStateAssigned
		return tx.Update(cur)
	})
	if err != nil {
		t.Fatal(err)
	}
	nextSet(t, s, "t2 assigned", func(ts []agent.Task) bool { return len(ts) == 2 })

	// removing the node ends the session
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.Delete(store.KindNode, "w1") }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("session still open after the node was removed")
	}
}

// A node the store does not hold gets no session; the node is the certificate's, whatever the
// caller says.
func TestAgentSessionUnknownNode(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	srv.ServeDispatcher(dispatcher.New(sessionStore(t), quietLog()))
	_, err := NewClient(cl.worker(t, "w9"), []string{addr}).Session(ctxT(t, 20*time.Second), "", swarm.NodeDescription{})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != CodeNotFound || se.Desc != dispatcher.ErrNodeUnknown.Error() {
		t.Fatalf("error %v", err)
	}
}

// The client follows a follower's redirect to the leader, and a session ends when its manager
// stops leading.
func TestAgentSessionFollowsLeader(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	st := sessionStore(t)
	lsrv, laddr := listen(t, cl.manager(t, "m1"))
	lsrv.ServeDispatcher(dispatcher.New(st, quietLog()))
	lead := &leadership{leader: true}
	lsrv.SetLeadership(lead)
	fsrv, faddr := listen(t, cl.manager(t, "m2"))
	fsrv.ServeDispatcher(dispatcher.New(st, quietLog()))
	fsrv.SetLeadership(&leadership{leader: false, addr: laddr})

	c := NewClient(cl.worker(t, "w1"), []string{faddr})
	ctx := ctxT(t, 30*time.Second)
	s, err := c.Session(ctx, "w1", swarm.NodeDescription{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m := c.Managers(); len(m) != 2 || m[0] != laddr || m[1] != faddr {
		t.Fatalf("managers %v, want the leader first", m)
	}
	nextSet(t, s, "assignments from the leader", func(ts []agent.Task) bool { return len(ts) == 1 })

	lead.set(false, faddr)
	_, err = s.Heartbeat(ctx)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != CodeUnavailable {
		t.Fatalf("heartbeat to a former leader: %v", err)
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session with a former leader still open")
	}
	// no manager leads now: opening fails with Docker's text
	fsrv.SetLeadership(&leadership{})
	lead.set(false, "")
	if _, err := c.Session(ctx, "w1", swarm.NodeDescription{}); err == nil || err.Error() != errNoLeader.Error() {
		t.Fatalf("session with no leader: %v", err)
	}
}

// Closing a session on the client ends it on the manager too: a new one can be opened at once and
// the old one answers no more.
func TestAgentSessionClose(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	srv.ServeDispatcher(dispatcher.New(sessionStore(t), quietLog()))
	c := NewClient(cl.worker(t, "w1"), []string{addr})
	ctx := ctxT(t, 30*time.Second)
	s, err := c.Session(ctx, "w1", swarm.NodeDescription{})
	if err != nil {
		t.Fatal(err)
	}
	nextSet(t, s, "assignments", func(ts []agent.Task) bool { return true })
	s.Close()
	if _, err := s.Heartbeat(ctx); err == nil {
		t.Fatal("heartbeat on a closed session")
	}
	s2, err := c.Session(ctx, "w1", swarm.NodeDescription{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	nextSet(t, s2, "assignments of the new session", func(ts []agent.Task) bool { return len(ts) == 1 })
}
