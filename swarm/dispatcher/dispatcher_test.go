package dispatcher

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/store"
)

func setup(t *testing.T) (*store.Store, *Dispatcher) {
	t.Helper()
	st := store.New(nil)
	n := &store.Node{}
	n.ID = "n1"
	n.Status.State = swarm.NodeStateUnknown
	task := func(id string, state swarm.TaskState) *store.Task {
		tk := &store.Task{}
		tk.ID, tk.NodeID, tk.ServiceID, tk.Slot = id, "n1", "s1", 1
		tk.ServiceName, tk.ServiceLabels = "web", map[string]string{"a": "b"}
		tk.Status.State, tk.DesiredState = state, swarm.TaskStateRunning
		return tk
	}
	err := st.Update(context.Background(), func(tx store.Tx) error {
		for _, o := range []store.Object{n, task("t1", swarm.TaskStateAssigned), task("t2", swarm.TaskStatePending)} {
			if err := tx.Create(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, New(st, nil)
}

func next(t *testing.T, s *Session) []agent.Task {
	t.Helper()
	select {
	case ts := <-s.Assignments():
		return ts
	case <-time.After(5 * time.Second):
		t.Fatal("no assignments")
	}
	return nil
}

func TestSessionAssignmentsAndStatus(t *testing.T) {
	ctx := context.Background()
	st, d := setup(t)
	s, err := d.Open(ctx, "n1", "198.18.0.2", swarm.NodeDescription{Hostname: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n *store.Node
	st.View(func(tx store.ReadTx) { n = tx.GetNode("n1") })
	if n.Status.State != swarm.NodeStateReady || n.Description.Hostname != "h1" || n.Status.Addr != "198.18.0.2" {
		t.Fatalf("node after open: %+v", n.Node)
	}
	ts := next(t, s)
	if len(ts) != 1 || ts[0].ID != "t1" {
		t.Fatalf("assigned %v, want only t1 (t2 is pending)", ts)
	}
	// The assignment carries the service's name and labels (templates' .Service), and names the
	// task's container.
	if sa := ts[0].ServiceAnnotations; sa.Name != "web" || sa.Labels["a"] != "b" || ts[0].Annotations.Name != "web.1.t1" {
		t.Fatalf("assigned task: service annotations %+v, name %q; want web {a:b}, web.1.t1", sa, ts[0].Annotations.Name)
	}
	now := time.Now()
	up := func(state swarm.TaskState, at time.Time) agent.StatusUpdate {
		return agent.StatusUpdate{TaskID: "t1", Status: swarm.TaskStatus{State: state, Timestamp: at}}
	}
	if err := s.UpdateStatus(ctx, []agent.StatusUpdate{up(swarm.TaskStateRunning, now)}); err != nil {
		t.Fatal(err)
	}
	// a late report of an earlier state does not move the task back
	if err := s.UpdateStatus(ctx, []agent.StatusUpdate{up(swarm.TaskStatePreparing, now.Add(time.Second))}); err != nil {
		t.Fatal(err)
	}
	var tk *store.Task
	st.View(func(tx store.ReadTx) { tk = tx.GetTask("t1") })
	if tk.Status.State != swarm.TaskStateRunning {
		t.Fatalf("task state %s, want running", tk.Status.State)
	}
	// the new status reaches the session as a new assignment set
	for deadline := time.Now().Add(5 * time.Second); ; {
		ts = next(t, s)
		if len(ts) == 1 && ts[0].Status.State == swarm.TaskStateRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("assignments never showed running: %v", ts)
		}
	}
}

func TestHeartbeatFailureMarksDown(t *testing.T) {
	ctx := context.Background()
	st, d := setup(t)
	clock := time.Now()
	d.now = func() time.Time { return clock }
	s, err := d.Open(ctx, "n1", "", swarm.NodeDescription{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock = clock.Add(10 * time.Second)
	if n, err := d.CheckHeartbeats(ctx); err != nil || n != 0 {
		t.Fatalf("marked %d (%v) within 3 periods", n, err)
	}
	clock = clock.Add(10 * time.Second)
	if n, err := d.CheckHeartbeats(ctx); err != nil || n != 1 {
		t.Fatalf("marked %d (%v) after 20s of silence", n, err)
	}
	var n *store.Node
	st.View(func(tx store.ReadTx) { n = tx.GetNode("n1") })
	if n.Status.State != swarm.NodeStateDown || n.Status.Message != "heartbeat failure" {
		t.Fatalf("node status %+v", n.Status)
	}
}

func TestUnknownNodeRefused(t *testing.T) {
	_, d := setup(t)
	if _, err := d.Open(context.Background(), "nope", "", swarm.NodeDescription{}); err != ErrNodeUnknown {
		t.Fatalf("err %v", err)
	}
}
