package orchestrator_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/allocator"
	"github.com/shoal-project/shoal/swarm/orchestrator"
	"github.com/shoal-project/shoal/swarm/scheduler"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// testExecutor stands in for the agents of every node (test only): it moves assigned tasks to
// running (or ready while they are held), and tasks no longer wanted to shutdown. Every move it makes
// must be forward.
type testExecutor struct {
	t     *testing.T
	st    *store.Store
	clock *fakeClock
}

func (e *testExecutor) run(ctx context.Context) {
	events, cancel := e.st.Watch()
	defer cancel()
	e.step(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
			e.step(ctx)
		}
	}
}

func (e *testExecutor) next(t *store.Task) swarm.TaskState {
	if t.NodeID == "" || taskstate.Before(t.Status.State, swarm.TaskStateAssigned) || taskstate.Terminal(t.Status.State) {
		return ""
	}
	switch {
	case taskstate.After(t.DesiredState, swarm.TaskStateComplete):
		return swarm.TaskStateShutdown
	case t.DesiredState == swarm.TaskStateReady:
		if t.Status.State != swarm.TaskStateReady {
			return swarm.TaskStateReady
		}
	case t.Spec.ContainerSpec != nil && t.Spec.ContainerSpec.Image == "bad":
		return swarm.TaskStateFailed
	case t.Status.State != swarm.TaskStateRunning:
		return swarm.TaskStateRunning
	}
	return ""
}

func (e *testExecutor) step(ctx context.Context) {
	var todo []string
	e.st.View(func(tx store.ReadTx) {
		for _, t := range tx.ListTasks() {
			if e.next(t) != "" {
				todo = append(todo, t.ID)
			}
		}
	})
	for _, id := range todo {
		_ = e.st.Update(ctx, func(tx store.Tx) error {
			cur := tx.GetTask(id)
			if cur == nil {
				return nil
			}
			to := e.next(cur)
			if to == "" {
				return nil
			}
			if err := taskstate.Check(cur.Status.State, to); err != nil {
				e.t.Errorf("executor: %v", err)
				return err
			}
			t := cur.Copy()
			t.Status = swarm.TaskStatus{State: to, Timestamp: e.clock.Now(), Message: string(to)}
			return tx.Update(t)
		})
	}
}

type harness struct {
	t     *testing.T
	st    *store.Store
	clock *fakeClock
	ctx   context.Context
}

func startManager(t *testing.T, nodes ...string) *harness {
	st := store.New(nil)
	clock := &fakeClock{now: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)}
	st.SetClock(clock.Now)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, st: st, clock: clock, ctx: ctx}

	err := st.Update(ctx, func(tx store.Tx) error {
		ing := &store.Network{}
		ing.ID = store.NewID()
		ing.Spec.Name = "ingress"
		ing.Spec.Ingress = true
		ing.Spec.DriverConfiguration = &swarm.Driver{Name: "overlay"}
		if err := tx.Create(ing); err != nil {
			return err
		}
		for _, id := range nodes {
			n := &store.Node{}
			n.ID = id
			n.Spec.Role = swarm.NodeRoleWorker
			n.Spec.Availability = swarm.NodeAvailabilityActive
			n.Status.State = swarm.NodeStateReady
			n.Description.Hostname = "host-" + id
			if err := tx.Create(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	runners := []func(context.Context) error{
		allocator.New(st, allocator.WithClock(clock.Now)).Run,
		scheduler.New(st, scheduler.WithClock(clock.Now)).Run,
		orchestrator.New(st, orchestrator.WithClock(clock)).Run,
		orchestrator.NewReaper(st).Run,
	}
	for _, run := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				t.Errorf("controller: %v", err)
			}
		}()
	}
	ex := &testExecutor{t: t, st: st, clock: clock}
	wg.Add(1)
	go func() { defer wg.Done(); ex.run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return h
}

// waitFor checks cond after every store change and every few milliseconds, moving the fake clock
// forward a little each time (restart delays, update monitoring), until it holds or the deadline.
func (h *harness) waitFor(what string, cond func(tx store.ReadTx) bool) {
	h.t.Helper()
	events, cancel := h.st.Watch()
	defer cancel()
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ok := false
		h.st.View(func(tx store.ReadTx) { ok = cond(tx) })
		if ok {
			return
		}
		select {
		case <-deadline:
			var dump string
			h.st.View(func(tx store.ReadTx) {
				for _, t := range tx.ListTasks() {
					dump += fmt.Sprintf("  %s svc=%s slot=%d node=%s %s/%s err=%q\n", t.ID[:6], t.ServiceName, t.Slot, t.NodeID, t.DesiredState, t.Status.State, t.Status.Err)
				}
				for _, s := range tx.ListServices() {
					dump += fmt.Sprintf("  service %s update=%+v\n", s.Spec.Name, s.UpdateStatus)
				}
			})
			h.t.Fatalf("timed out waiting for %s; tasks:\n%s", what, dump)
		case <-events:
		case <-tick.C:
			h.clock.Advance(200 * time.Millisecond)
		}
	}
}

func (h *harness) update(f func(tx store.Tx) error) {
	h.t.Helper()
	if err := h.st.Update(h.ctx, f); err != nil {
		h.t.Fatal(err)
	}
}

// running counts the service's tasks that run and should, with the given image, and the nodes used.
func running(tx store.ReadTx, serviceID, image string) (int, map[string]int) {
	n, nodes := 0, map[string]int{}
	for _, t := range tx.TasksByService(serviceID) {
		if t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning &&
			t.Spec.ContainerSpec.Image == image {
			n++
			nodes[t.NodeID]++
		}
	}
	return n, nodes
}

func TestManagerConverges(t *testing.T) {
	h := startManager(t, "node1", "node2", "node3")

	// A network and a service on it publishing a port, as the control layer writes them.
	netID, svcID := store.NewID(), store.NewID()
	h.update(func(tx store.Tx) error {
		n := &store.Network{}
		n.ID = netID
		n.Spec.Name = "appnet"
		n.Spec.DriverConfiguration = &swarm.Driver{Name: "overlay"}
		if err := tx.Create(n); err != nil {
			return err
		}
		replicas := uint64(3)
		s := &store.Service{SpecVersion: 1}
		s.ID = svcID
		s.Spec.Name = "web"
		s.Spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &replicas}
		s.Spec.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "web:1"}
		s.Spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: netID}}
		s.Spec.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{TargetPort: 80, PublishedPort: 8080}}}
		s.Spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 2, Monitor: time.Second}
		return tx.Create(s)
	})
	h.waitFor("3 running tasks spread over 3 nodes", func(tx store.ReadTx) bool {
		n, nodes := running(tx, svcID, "web:1")
		return n == 3 && len(nodes) == 3
	})
	h.st.View(func(tx store.ReadTx) {
		s := tx.GetService(svcID)
		if len(s.Endpoint.VirtualIPs) != 2 || len(s.Endpoint.Ports) != 1 || s.Endpoint.Ports[0].PublishedPort != 8080 {
			t.Errorf("service endpoint = %+v", s.Endpoint)
		}
		for _, tk := range tx.TasksByService(svcID) {
			if len(tk.NetworksAttachments) != 2 || tk.Status.State != swarm.TaskStateRunning {
				t.Errorf("task %s attachments %d state %s", tk.ID, len(tk.NetworksAttachments), tk.Status.State)
			}
		}
		if s.UpdateStatus != nil {
			t.Errorf("a new service has no update status: %+v", s.UpdateStatus)
		}
	})

	// Scale to 6.
	h.update(func(tx store.Tx) error {
		s := tx.GetService(svcID).Copy()
		s.Spec.Mode.Replicated.Replicas = ptr(uint64(6))
		return tx.Update(s)
	})
	h.waitFor("6 running tasks", func(tx store.ReadTx) bool {
		n, nodes := running(tx, svcID, "web:1")
		return n == 6 && len(nodes) == 3
	})

	// Rolling update to web:2.
	h.update(func(tx store.Tx) error {
		s := tx.GetService(svcID).Copy()
		prev := s.Spec
		s.PreviousSpec = &prev
		s.PreviousSpecVersion = s.SpecVersion
		s.Spec = tx.GetService(svcID).Copy().Spec
		s.Spec.TaskTemplate.ContainerSpec.Image = "web:2"
		s.SpecVersion++
		s.UpdateStatus = nil
		return tx.Update(s)
	})
	h.waitFor("update completed with 6 web:2 tasks", func(tx store.ReadTx) bool {
		n, _ := running(tx, svcID, "web:2")
		old, _ := running(tx, svcID, "web:1")
		us := tx.GetService(svcID).UpdateStatus
		return n == 6 && old == 0 && us != nil && us.State == swarm.UpdateStateCompleted && us.Message == "update completed"
	})

	// Drain node1: its tasks move to the other nodes.
	h.update(func(tx store.Tx) error {
		n := tx.GetNode("node1").Copy()
		n.Spec.Availability = swarm.NodeAvailabilityDrain
		return tx.Update(n)
	})
	h.waitFor("6 tasks running off node1", func(tx store.ReadTx) bool {
		n, nodes := running(tx, svcID, "web:2")
		return n == 6 && nodes["node1"] == 0
	})

	// A global service runs on the two active nodes.
	globalID := store.NewID()
	h.update(func(tx store.Tx) error {
		s := &store.Service{SpecVersion: 1}
		s.ID = globalID
		s.Spec.Name = "agent"
		s.Spec.Mode.Global = &swarm.GlobalService{}
		s.Spec.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "agent:1"}
		return tx.Create(s)
	})
	h.waitFor("a global task on node2 and node3", func(tx store.ReadTx) bool {
		n, nodes := running(tx, globalID, "agent:1")
		return n == 2 && nodes["node2"] == 1 && nodes["node3"] == 1
	})

	// Removing the service (the control layer marks it) stops its tasks; the reaper deletes them, then
	// the service.
	h.update(func(tx store.Tx) error {
		s := tx.GetService(svcID).Copy()
		s.PendingDelete = true
		return tx.Update(s)
	})
	h.waitFor("the removed service and its tasks deleted", func(tx store.ReadTx) bool {
		return len(tx.TasksByService(svcID)) == 0 && tx.GetService(svcID) == nil
	})
	// A service deleted outright leaves tasks behind that go the same way.
	h.update(func(tx store.Tx) error { return tx.Delete(store.KindService, globalID) })
	h.waitFor("the deleted service's tasks deleted", func(tx store.ReadTx) bool {
		return len(tx.TasksByService(globalID)) == 0
	})
	h.quiet()
}

// quiet checks that the controllers, once converged, write nothing more, even as time passes.
func (h *harness) quiet() {
	h.t.Helper()
	h.clock.Advance(time.Minute)
	h.waitFor("writes to stop", func(store.ReadTx) bool { return true })
	before := h.st.Index()
	events, cancel := h.st.Watch()
	defer cancel()
	window := time.After(200 * time.Millisecond)
	for {
		select {
		case ev := <-events:
			h.t.Fatalf("write after convergence (index %d -> %d): %s %T %+v", before, h.st.Index(), ev.Action, ev.Object, ev.Object)
		case <-window:
			return
		}
	}
}

func TestManagerRollsBackFailedUpdate(t *testing.T) {
	h := startManager(t, "node1", "node2")
	svcID := store.NewID()
	h.update(func(tx store.Tx) error {
		replicas := uint64(2)
		s := &store.Service{SpecVersion: 1}
		s.ID = svcID
		s.Spec.Name = "web"
		s.Spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &replicas}
		s.Spec.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "web:1"}
		s.Spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Monitor: time.Second, FailureAction: swarm.UpdateFailureActionRollback}
		return tx.Create(s)
	})
	h.waitFor("2 running tasks", func(tx store.ReadTx) bool {
		n, _ := running(tx, svcID, "web:1")
		return n == 2
	})
	h.update(func(tx store.Tx) error {
		s := tx.GetService(svcID).Copy()
		prev := s.Spec
		s.PreviousSpec = &prev
		s.PreviousSpecVersion = s.SpecVersion
		s.Spec = tx.GetService(svcID).Copy().Spec
		s.Spec.TaskTemplate.ContainerSpec.Image = "bad"
		s.SpecVersion++
		s.UpdateStatus = nil
		return tx.Update(s)
	})
	h.waitFor("the update rolled back", func(tx store.ReadTx) bool {
		n, _ := running(tx, svcID, "web:1")
		us := tx.GetService(svcID).UpdateStatus
		return n == 2 && us != nil && us.State == swarm.UpdateStateRollbackCompleted
	})
	h.st.View(func(tx store.ReadTx) {
		s := tx.GetService(svcID)
		if s.Spec.TaskTemplate.ContainerSpec.Image != "web:1" || s.SpecVersion != 1 || s.PreviousSpec != nil {
			t.Errorf("after rollback: image %s version %d previous %v", s.Spec.TaskTemplate.ContainerSpec.Image, s.SpecVersion, s.PreviousSpec)
		}
		failed := 0
		for _, tk := range tx.TasksByService(svcID) {
			if tk.Spec.ContainerSpec.Image == "bad" {
				failed++
				if tk.Status.State != swarm.TaskStateFailed || tk.DesiredState != swarm.TaskStateShutdown {
					t.Errorf("bad task %s: %s/%s", tk.ID, tk.DesiredState, tk.Status.State)
				}
			}
		}
		if failed != 1 {
			t.Errorf("bad tasks = %d, want the one that failed (one at a time)", failed)
		}
	})
	h.quiet()
}

func ptr[T any](v T) *T { return &v }

// Draining the only node: what `docker service ps` shows in the trace task-list-drained-pending.json.
func TestManagerDrainLeavesTasksPending(t *testing.T) {
	h := startManager(t, "node1")
	svcID := store.NewID()
	h.update(func(tx store.Tx) error {
		replicas := uint64(3)
		s := &store.Service{SpecVersion: 1}
		s.ID = svcID
		s.Spec.Name = "foo"
		s.Spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &replicas}
		s.Spec.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "bb:1"}
		return tx.Create(s)
	})
	h.waitFor("3 running tasks", func(tx store.ReadTx) bool {
		n, _ := running(tx, svcID, "bb:1")
		return n == 3
	})
	h.update(func(tx store.Tx) error {
		n := tx.GetNode("node1").Copy()
		n.Spec.Availability = swarm.NodeAvailabilityDrain
		return tx.Update(n)
	})
	const reason = "no suitable node (1 node not available for new tasks)"
	h.waitFor("3 old tasks shut down and 3 new ones pending", func(tx store.ReadTx) bool {
		old, pending := 0, 0
		slots := map[int]bool{}
		for _, tk := range tx.TasksByService(svcID) {
			switch {
			case tk.DesiredState == swarm.TaskStateShutdown && tk.Status.State == swarm.TaskStateShutdown && tk.NodeID == "node1":
				old++
			case tk.DesiredState == swarm.TaskStateRunning && tk.Status.State == swarm.TaskStatePending &&
				tk.NodeID == "" && tk.Status.Err == reason && tk.Status.Message == "pending task scheduling":
				pending++
				slots[tk.Slot] = true
			}
		}
		return old == 3 && pending == 3 && len(slots) == 3
	})
	h.quiet()
}
