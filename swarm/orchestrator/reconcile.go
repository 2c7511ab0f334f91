package orchestrator

import (
	"sort"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/scheduler/constraint"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// Input is what Reconcile decides one service from. Its objects are read-only.
type Input struct {
	// Service is the service; nil once it is deleted and only its tasks are left. A service marked
	// PendingDelete is being removed: its tasks are dropped.
	Service *store.Service
	// Tasks are all the tasks of the service.
	Tasks []*store.Task
	// Nodes are all the nodes of the cluster.
	Nodes    []*store.Node
	Observed Observed
	Now      time.Time
}

// Output is what Reconcile decided: writes for the shell and when to be asked again.
type Output struct {
	// Create holds new tasks.
	Create []*store.Task
	// Update holds changed copies of existing tasks (desired state changes), in ID order.
	Update []*store.Task
	// Service is a changed copy of the service (update status, rollback), or nil.
	Service *store.Service
	// Restarts are the restarts made, for the shell's history once the writes succeed.
	Restarts []Restart
	// WakeAt, when not zero, is when Reconcile wants to run again even if nothing changes: a restart
	// delay, an update delay or the end of an update's monitoring period.
	WakeAt time.Time
}

// Empty reports whether the output asks for no write.
func (o *Output) Empty() bool {
	return len(o.Create) == 0 && len(o.Update) == 0 && o.Service == nil
}

// Reconcile decides what one service needs: tasks to create, tasks to stop (desired SHUTDOWN) or
// drop (desired REMOVE), tasks whose delayed start may go ahead, and update-status changes.
// Applying its output and running it again on the result gives an empty output (until time passes
// WakeAt or something else changes).
func Reconcile(in Input) Output {
	r := newRC(in)
	if in.Service == nil || in.Service.PendingDelete {
		r.removeAll()
		return r.finish()
	}
	switch r.mode {
	case Replicated:
		r.replicated()
	case Global:
		r.global()
	case ReplicatedJob, GlobalJob:
		r.job()
	}
	r.promote()
	return r.finish()
}

// rc is one reconcile pass: a working view of the service's tasks with the pass's changes applied.
type rc struct {
	in      Input
	svc     *store.Service
	mode    Mode
	now     time.Time
	nodes   map[string]*store.Node
	tasks   []*store.Task
	index   map[string]int
	updated map[string]bool
	created map[string]bool
	out     Output
}

func newRC(in Input) *rc {
	r := &rc{
		in:      in,
		svc:     in.Service,
		now:     in.Now,
		nodes:   map[string]*store.Node{},
		index:   map[string]int{},
		updated: map[string]bool{},
		created: map[string]bool{},
	}
	if r.svc != nil {
		r.mode = ModeOf(r.svc)
	}
	for _, n := range in.Nodes {
		r.nodes[n.ID] = n
	}
	r.tasks = append([]*store.Task(nil), in.Tasks...)
	sort.Slice(r.tasks, func(i, j int) bool { return r.tasks[i].ID < r.tasks[j].ID })
	for i, t := range r.tasks {
		r.index[t.ID] = i
	}
	return r
}

// change applies f to the working copy of a task, copying it on its first change.
func (r *rc) change(t *store.Task, f func(*store.Task)) {
	i := r.index[t.ID]
	cur := r.tasks[i]
	if !r.updated[t.ID] && !r.created[t.ID] {
		cur = cur.Copy()
		r.tasks[i] = cur
		r.updated[t.ID] = true
	}
	f(cur)
	cur.UpdatedAt = r.now
}

// current gives the working copy of a task.
func (r *rc) current(t *store.Task) *store.Task { return r.tasks[r.index[t.ID]] }

func (r *rc) setDesired(t *store.Task, s swarm.TaskState) {
	if r.current(t).DesiredState == s {
		return
	}
	r.change(t, func(c *store.Task) { c.DesiredState = s })
}

func (r *rc) create(t *store.Task) {
	r.index[t.ID] = len(r.tasks)
	r.tasks = append(r.tasks, t)
	r.created[t.ID] = true
	r.out.Create = append(r.out.Create, t)
}

func (r *rc) wake(at time.Time) {
	if at.IsZero() {
		return
	}
	if r.out.WakeAt.IsZero() || at.Before(r.out.WakeAt) {
		r.out.WakeAt = at
	}
}

// serviceCopy gives the pass's changed copy of the service; the rest of the pass sees the copy.
func (r *rc) serviceCopy() *store.Service {
	if r.out.Service == nil {
		r.out.Service = r.svc.Copy()
		r.out.Service.UpdatedAt = r.now
		r.svc = r.out.Service
	}
	return r.out.Service
}

func (r *rc) finish() Output {
	for _, t := range r.tasks {
		if r.updated[t.ID] {
			r.out.Update = append(r.out.Update, t)
		}
	}
	return r.out
}

// history gives the restarts recorded for a slot, including the ones made in this pass.
func (r *rc) history(k SlotKey) []RestartRecord {
	h := append([]RestartRecord(nil), r.in.Observed.Restarts[k]...)
	for _, rs := range r.out.Restarts {
		if rs.Key == k {
			h = append(h, rs.Record)
		}
	}
	return h
}

// slots groups the working tasks by slot.
func (r *rc) slots() map[SlotKey][]*store.Task {
	m := map[SlotKey][]*store.Task{}
	for _, t := range r.tasks {
		k := slotKey(r.mode, t)
		m[k] = append(m[k], t)
	}
	return m
}

func runnableOf(ts []*store.Task) []*store.Task {
	var out []*store.Task
	for _, t := range ts {
		if runnable(t) {
			out = append(out, t)
		}
	}
	return out
}

// removeAll drops the tasks of a deleted service that may still run: desired REMOVE, which the agent
// stops. The reaper deletes them once stopped, and the finished ones right away.
func (r *rc) removeAll() {
	for _, t := range r.tasks {
		if !taskstate.Terminal(t.Status.State) {
			r.setDesired(t, swarm.TaskStateRemove)
		}
	}
}

// restarts handles the runnable tasks that ended or whose node can no longer run them: each is
// stopped (desired SHUTDOWN) and, when its restart policy says so (always when its node was lost,
// for services that place tasks by slot), replaced in the same slot. A replacement waits (desired
// READY) for its restart delay and for the task it replaces to stop.
func (r *rc) restarts(skip func(*store.Task) bool) {
	for _, t := range append([]*store.Task(nil), r.tasks...) {
		if !runnable(t) || r.created[t.ID] || (skip != nil && skip(t)) {
			continue
		}
		t = r.tasks[r.index[t.ID]]
		node := r.nodes[t.NodeID]
		ended := taskstate.Terminal(t.Status.State) && !(r.mode.job() && t.Status.State == swarm.TaskStateComplete)
		lost := t.NodeID != "" && nodeGone(node) && !taskstate.Terminal(t.Status.State)
		if !ended && !lost {
			continue
		}
		if held := r.restartAt(t); ended && r.now.Before(held) {
			// It ended (could not be prepared) while still waiting out its own restart delay: its
			// replacement waits for that delay, so that such a task fails once per delay, not in a
			// loop (swarmkit's supervisor does the same).
			r.wake(held)
			continue
		}
		r.setDesired(t, swarm.TaskStateShutdown)
		if lost && r.mode.perNode() {
			continue // global tasks live and die with their node
		}
		key := slotKey(r.mode, t)
		if ended && !shouldRestart(r.mode, t, r.history(key)) {
			continue
		}
		nodeID := ""
		if r.mode.perNode() {
			nodeID = t.NodeID
		}
		nt := NewTask(r.svc, t.Slot, nodeID, r.now)
		if r.mode.job() {
			nt.JobIteration = t.JobIteration
		}
		delay := policyOf(&t.Spec).delay
		if node != nil && node.Spec.Availability == swarm.NodeAvailabilityDrain {
			delay = 0
		}
		waitOld := !taskstate.Terminal(t.Status.State) && !nodeUnreachable(node)
		if delay > 0 || waitOld {
			nt.DesiredState = swarm.TaskStateReady
		}
		if delay > 0 {
			nt.RestartAt = r.now.Add(delay).UnixNano()
		}
		r.create(nt)
		if ended {
			r.out.Restarts = append(r.out.Restarts, Restart{Key: key, Record: RestartRecord{SpecVersion: t.SpecVersion, At: r.now}})
		}
	}
}

// restartAt is when a restarted task's delay ends (zero for a task that was not delayed).
func (r *rc) restartAt(t *store.Task) time.Time {
	if t.RestartAt == 0 {
		return time.Time{}
	}
	return time.Unix(0, t.RestartAt).UTC()
}

// promote lets tasks held at desired READY start once their restart delay is over and the tasks they
// replace in their slot have stopped (or their node is gone, or a minute has passed).
func (r *rc) promote() {
	slots := r.slots()
	for _, t := range append([]*store.Task(nil), r.tasks...) {
		if t.DesiredState != swarm.TaskStateReady {
			continue
		}
		if taskstate.Terminal(t.Status.State) {
			continue // it ended while held: restarts replaces it once its delay is over
		}
		at := r.restartAt(t)
		waiting := false
		for _, o := range slots[slotKey(r.mode, t)] {
			if o.ID == t.ID || runnable(o) || taskstate.Terminal(o.Status.State) {
				continue
			}
			if o.NodeID == "" || nodeUnreachable(r.nodes[o.NodeID]) || taskstate.Before(o.Status.State, swarm.TaskStateAssigned) {
				continue
			}
			waiting = true
		}
		if waiting {
			if limit := t.CreatedAt.Add(oldTaskTimeout); r.now.Before(limit) {
				r.wake(later(at, limit))
				continue
			}
		}
		if !at.IsZero() && r.now.Before(at) {
			r.wake(at)
			continue
		}
		r.setDesired(t, goal(r.mode))
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// eligible reports whether a node may get a new task of the service: ready, active, and matching
// the placement constraints.
func (r *rc) eligible(n *store.Node) bool {
	if n.Status.State != swarm.NodeStateReady || n.Spec.Availability != swarm.NodeAvailabilityActive {
		return false
	}
	return r.matches(n)
}

func (r *rc) matches(n *store.Node) bool {
	var exprs []string
	if p := r.svc.Spec.TaskTemplate.Placement; p != nil {
		exprs = p.Constraints
	}
	return constraint.NodeMatches(exprs, &n.Node)
}

func (r *rc) sortedNodes() []*store.Node {
	ns := append([]*store.Node(nil), r.in.Nodes...)
	sort.Slice(ns, func(i, j int) bool { return ns[i].ID < ns[j].ID })
	return ns
}
