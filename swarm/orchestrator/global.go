package orchestrator

import (
	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// global reconciles a global service: one task per eligible node. Tasks on nodes that are gone
// (deleted, down, drained) or no longer match the constraints are stopped; paused nodes keep their
// task but get no new one and no update.
func (r *rc) global() {
	r.checkUpdate()
	for _, t := range r.tasks {
		if !runnable(t) {
			continue
		}
		n := r.nodes[t.NodeID]
		if n == nil || nodeGone(n) || !r.matches(n) {
			r.setDesired(t, swarm.TaskStateShutdown)
		}
	}
	r.restarts(nil)

	slots := r.slots()
	var upd []updSlot
	for _, n := range r.sortedNodes() {
		k := SlotKey{ServiceID: r.svc.ID, NodeID: n.ID}
		run := runnableOf(slots[k])
		if len(run) > 0 {
			if n.Spec.Availability == swarm.NodeAvailabilityActive && n.Status.State != swarm.NodeStateDown {
				upd = append(upd, updSlot{key: k, tasks: run})
			}
			continue
		}
		if !r.eligible(n) {
			continue
		}
		if last := newest(slots[k]); last != nil && finished(r.mode, r.svc, last, r.history(k)) {
			continue
		}
		r.create(NewTask(r.svc, 0, n.ID, r.now))
	}
	r.update(upd)
}

// job reconciles a replicated or global job: tasks of older iterations still at work are shut down
// and the finished ones stay in the history, as with swarmkit; tasks of the
// current iteration that fail are restarted per policy; new tasks start until TotalCompletions tasks
// complete, at most MaxConcurrent at a time (replicated), or one per eligible node (global).
func (r *rc) job() {
	var iter uint64
	if r.svc.JobStatus != nil {
		iter = r.svc.JobStatus.JobIteration.Index
	}
	current := func(t *store.Task) bool { return t.JobIteration != nil && t.JobIteration.Index == iter }
	for _, t := range r.tasks {
		if !current(t) && runnable(t) && !taskstate.Terminal(t.Status.State) {
			r.setDesired(t, swarm.TaskStateShutdown)
		}
	}
	r.restarts(func(t *store.Task) bool { return !current(t) })

	slots := map[SlotKey][]*store.Task{}
	for _, t := range r.tasks {
		if current(t) {
			k := slotKey(r.mode, t)
			slots[k] = append(slots[k], t)
		}
	}
	// done: slots with a completed task or a task that failed for good; active: slots at work.
	done := map[SlotKey]bool{}
	active := map[SlotKey]bool{}
	for k, ts := range slots {
		for _, t := range ts {
			if t.Status.State == swarm.TaskStateComplete {
				done[k] = true
			}
		}
		if done[k] {
			continue
		}
		if len(runnableOf(ts)) > 0 {
			active[k] = true
		} else if last := newest(ts); endedOnItsOwn(last) && !shouldRestart(r.mode, last, r.history(k)) {
			done[k] = true
		}
	}

	if r.mode == GlobalJob {
		for _, n := range r.sortedNodes() {
			k := SlotKey{ServiceID: r.svc.ID, NodeID: n.ID}
			if done[k] || active[k] || !r.eligible(n) {
				continue
			}
			r.create(NewTask(r.svc, 0, n.ID, r.now))
		}
		return
	}

	rj := r.svc.Spec.Mode.ReplicatedJob
	maxConcurrent := uint64(1)
	if rj.MaxConcurrent != nil {
		maxConcurrent = *rj.MaxConcurrent
	}
	total := maxConcurrent
	if rj.TotalCompletions != nil {
		total = *rj.TotalCompletions
	}
	running, completed := uint64(len(active)), uint64(len(done))
	if running >= maxConcurrent || running+completed >= total {
		return
	}
	n := min(maxConcurrent-running, total-completed-running)
	// a job's slots count from 0, as swarmkit's do (the CLI's job progress reads slots 0..N-1)
	for slot := 0; n > 0 && uint64(slot) < total; slot++ {
		k := SlotKey{ServiceID: r.svc.ID, Slot: slot}
		if done[k] || active[k] {
			continue
		}
		r.create(NewTask(r.svc, slot, "", r.now))
		n--
	}
}
