package orchestrator

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

var t0 = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

// world is a pure simulation for table tests: one service, its tasks, nodes and time. reconcile runs
// the core and applies what it decides as the shell would; the agent-like helpers move observed
// states as the other components would.
type world struct {
	t     *testing.T
	svc   *store.Service
	tasks map[string]*store.Task
	nodes []*store.Node
	obs   Observed
	now   time.Time
	last  Output
}

func newWorld(t *testing.T, svc *store.Service, nodes ...*store.Node) *world {
	return &world{t: t, svc: svc, tasks: map[string]*store.Task{}, nodes: nodes, now: t0,
		obs: Observed{RunningAt: map[string]time.Time{}, Restarts: map[SlotKey][]RestartRecord{}}}
}

func (w *world) list() []*store.Task {
	out := make([]*store.Task, 0, len(w.tasks))
	for _, t := range w.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// reconcile runs Reconcile and applies its output.
func (w *world) reconcile() Output {
	w.t.Helper()
	in := Input{Service: w.svc, Tasks: w.list(), Nodes: w.nodes, Observed: w.obs, Now: w.now}
	out := Reconcile(in)
	for _, t := range out.Create {
		if _, ok := w.tasks[t.ID]; ok {
			w.t.Fatalf("task %s created twice", t.ID)
		}
		w.tasks[t.ID] = t
	}
	for _, t := range out.Update {
		old := w.tasks[t.ID]
		if old == nil {
			w.t.Fatalf("update of unknown task %s", t.ID)
		}
		if err := taskstate.Check(old.Status.State, t.Status.State); err != nil || old.Status.State != t.Status.State {
			w.t.Fatalf("orchestrator changed the observed state of %s: %s -> %s", t.ID, old.Status.State, t.Status.State)
		}
		w.tasks[t.ID] = t
	}
	if out.Service != nil {
		w.svc = out.Service
	}
	for _, r := range out.Restarts {
		w.obs.Restarts[r.Key] = append(w.obs.Restarts[r.Key], r.Record)
	}
	w.last = out
	return out
}

// converge reconciles until nothing changes (a bounded number of times).
func (w *world) converge() {
	w.t.Helper()
	for i := 0; i < 20; i++ {
		if out := w.reconcile(); out.Empty() {
			return
		}
	}
	w.t.Fatalf("reconcile does not settle")
}

func (w *world) advance(d time.Duration) { w.now = w.now.Add(d) }

func (w *world) setState(t *store.Task, s swarm.TaskState) {
	c := t.Copy()
	c.Status.State = s
	c.Status.Timestamp = w.now
	if s == swarm.TaskStateRunning {
		w.obs.RunningAt[c.ID] = w.now
	}
	w.tasks[c.ID] = c
}

// place puts a task on a node (what allocator and scheduler do).
func (w *world) place(t *store.Task, nodeID string) {
	c := t.Copy()
	c.NodeID = nodeID
	c.Status.State = swarm.TaskStateAssigned
	c.Status.Timestamp = w.now
	w.tasks[c.ID] = c
}

// agents plays allocator, scheduler and agents: tasks desired running start (on the node with the
// fewest tasks when unassigned), tasks desired past running stop. Tasks held at READY are placed
// and prepared (READY) but not started.
func (w *world) agents() {
	for _, t := range w.list() {
		switch {
		case taskstate.Terminal(t.Status.State):
		case !runnable(t):
			if t.NodeID != "" {
				w.setState(t, swarm.TaskStateShutdown)
			}
		case t.NodeID == "":
			w.place(t, w.leastLoaded(t))
			if t.DesiredState != swarm.TaskStateReady {
				w.setState(w.tasks[t.ID], swarm.TaskStateRunning)
			} else {
				w.setState(w.tasks[t.ID], swarm.TaskStateReady)
			}
		case t.DesiredState == swarm.TaskStateReady && taskstate.Before(t.Status.State, swarm.TaskStateReady):
			w.setState(t, swarm.TaskStateReady)
		case t.DesiredState != swarm.TaskStateReady && t.Status.State != swarm.TaskStateRunning:
			w.setState(t, swarm.TaskStateRunning)
		}
	}
}

func (w *world) leastLoaded(t *store.Task) string {
	best, n := "", -1
	for _, node := range w.nodes {
		if node.Spec.Availability != swarm.NodeAvailabilityActive || node.Status.State != swarm.NodeStateReady {
			continue
		}
		c := 0
		for _, o := range w.tasks {
			if o.NodeID == node.ID && runnable(o) {
				c++
			}
		}
		if n < 0 || c < n {
			best, n = node.ID, c
		}
	}
	return best
}

// cycle runs agents and reconcile until both are quiet.
func (w *world) cycle() {
	w.t.Helper()
	for i := 0; i < 50; i++ {
		before := w.fingerprint()
		w.agents()
		w.reconcile()
		if w.fingerprint() == before {
			return
		}
	}
	w.t.Fatalf("world does not settle:\n%s", w.fingerprint())
}

func (w *world) fingerprint() string {
	var b strings.Builder
	for _, t := range w.list() {
		fmt.Fprintf(&b, "%s s%d %s %s/%s v%d\n", t.ID, t.Slot, t.NodeID, t.DesiredState, t.Status.State, t.SpecVersion)
	}
	if u := w.svc.UpdateStatus; u != nil {
		fmt.Fprintf(&b, "update %s %s\n", u.State, u.Message)
	}
	return b.String()
}

// running gives the tasks observed running and desired running, by slot (or node for global).
func (w *world) running() map[string]int {
	m := map[string]int{}
	for _, t := range w.tasks {
		if t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning {
			if t.Slot != 0 {
				m[fmt.Sprint(t.Slot)]++
			} else {
				m[t.NodeID]++
			}
		}
	}
	return m
}

func (w *world) count(f func(*store.Task) bool) int {
	n := 0
	for _, t := range w.tasks {
		if f(t) {
			n++
		}
	}
	return n
}

func (w *world) setService(f func(s *store.Service)) {
	s := w.svc.Copy()
	f(s)
	w.svc = s
}

// specChange makes a spec change as the control layer does: previous spec kept, version bumped,
// update status reset.
func (w *world) specChange(f func(s *swarm.ServiceSpec)) {
	w.setService(func(s *store.Service) {
		prev := s.Spec
		s.PreviousSpec = &prev
		spec := w.svc.Copy().Spec
		f(&spec)
		s.Spec = spec
		s.PreviousSpecVersion = s.SpecVersion
		s.SpecVersion++
		s.UpdateStatus = nil
	})
}

func replicatedService(id string, n uint64) *store.Service {
	s := &store.Service{}
	s.ID = id
	s.Spec.Name = id
	s.Spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &n}
	s.Spec.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "busybox:1"}
	s.SpecVersion = 1
	return s
}

func globalService(id string) *store.Service {
	s := replicatedService(id, 0)
	s.Spec.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	return s
}

func mkNode(id string, opts ...func(*store.Node)) *store.Node {
	n := &store.Node{}
	n.ID = id
	n.Spec.Role = swarm.NodeRoleWorker
	n.Spec.Availability = swarm.NodeAvailabilityActive
	n.Status.State = swarm.NodeStateReady
	n.Description.Hostname = id
	for _, o := range opts {
		o(n)
	}
	return n
}

func drained(n *store.Node) { n.Spec.Availability = swarm.NodeAvailabilityDrain }
func paused(n *store.Node)  { n.Spec.Availability = swarm.NodeAvailabilityPause }
func down(n *store.Node)    { n.Status.State = swarm.NodeStateDown }

func (w *world) setNode(id string, f func(*store.Node)) {
	for i, n := range w.nodes {
		if n.ID == id {
			c := n.Copy()
			f(c)
			w.nodes[i] = c
			return
		}
	}
	w.t.Fatalf("no node %s", id)
}

func ptr[T any](v T) *T { return &v }
