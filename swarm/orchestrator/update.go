package orchestrator

import (
	"fmt"
	"sort"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// Update status messages, as swarmkit words them.
const (
	MessageUpdating          = "update in progress"
	MessageUpdateCompleted   = "update completed"
	MessageRollbackCompleted = "rollback completed"
	// MessageManualRollback is what the control layer writes when a user asks for a rollback.
	MessageManualRollback = "manually requested rollback"
	msgUpdatePaused       = "update paused due to failure or early termination of task %s"
	msgRollbackPaused     = "rollback paused due to failure or early termination of task %s"
	msgRolledBack         = "update rolled back due to failure or early termination of task %s"
)

// updSlot is a slot the updater looks at, with its runnable tasks.
type updSlot struct {
	key   SlotKey
	tasks []*store.Task
}

// updateConfig gives the update (or rollback) config with Docker's defaults filled in.
func updateConfig(s *store.Service, rollback bool) swarm.UpdateConfig {
	c := swarm.UpdateConfig{Parallelism: 1, FailureAction: swarm.UpdateFailureActionPause,
		Monitor: DefaultMonitor, Order: swarm.UpdateOrderStopFirst}
	src := s.Spec.UpdateConfig
	if rollback {
		src = s.Spec.RollbackConfig
	}
	if src != nil {
		c = *src
		if c.FailureAction == "" {
			c.FailureAction = swarm.UpdateFailureActionPause
		}
		if c.Monitor == 0 {
			c.Monitor = DefaultMonitor
		}
		if c.Order == "" {
			c.Order = swarm.UpdateOrderStopFirst
		}
	}
	return c
}

// updateFailure reports whether a task made by the update counts as a failure of it: it failed, was
// rejected or exited within the monitoring period after it started (or before it ever ran).
func updateFailure(t *store.Task, runningAt map[string]time.Time, monitor time.Duration) bool {
	switch t.Status.State {
	case swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateComplete:
	default:
		return false
	}
	started, ok := runningAt[t.ID]
	return !ok || t.Status.Timestamp.Sub(started) <= monitor
}

// update rolls a spec change out over the slots: a slot is dirty when it holds a task of an older
// spec or more than one runnable task. Dirty slots are replaced Parallelism at a time (0: all), each
// waiting for its new task to run and then Delay before the next; stop-first stops the old task before
// the new one starts, start-first stops it once the new one runs. Failures of new tasks within Monitor
// beyond MaxFailureRatio pause the update or roll it back. When no slot is dirty, the update completes
// after the last new task has been watched for Monitor.
func (r *rc) update(slots []updSlot) {
	us := r.svc.UpdateStatus
	var state swarm.UpdateState
	if us != nil {
		state = us.State
	}
	if state == swarm.UpdateStatePaused || state == swarm.UpdateStateRollbackPaused {
		return
	}
	rollback := state == swarm.UpdateStateRollbackStarted
	cfg := updateConfig(r.svc, rollback)

	dirty := map[SlotKey]bool{}
	for _, s := range slots {
		if len(s.tasks) > 1 {
			dirty[s.key] = true
			continue
		}
		for _, t := range s.tasks {
			if IsTaskDirty(r.svc, t, r.nodes[t.NodeID]) {
				dirty[s.key] = true
			}
		}
	}

	if state != swarm.UpdateStateUpdating && !rollback {
		if len(dirty) == 0 {
			return
		}
		s := r.serviceCopy()
		now := r.now
		s.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateUpdating, StartedAt: &now, Message: MessageUpdating}
		us = s.UpdateStatus
	}
	var startedAt time.Time
	if us.StartedAt != nil {
		startedAt = *us.StartedAt
	}
	made := r.madeTasks()
	if len(dirty) == 0 {
		r.completeUpdate(cfg, rollback, made)
		return
	}

	// Finish the slots that already have a clean task; count the slots still at work.
	inFlight := 0
	var todo []updSlot
	for _, s := range slots {
		clean := cleanTask(r, s.tasks)
		if clean != nil {
			if !clean.CreatedAt.Before(startedAt) {
				if taskstate.Before(clean.Status.State, swarm.TaskStateRunning) {
					inFlight++
				} else if until := clean.Status.Timestamp.Add(cfg.Delay); r.now.Before(until) {
					inFlight++
					r.wake(until)
				}
			}
			if cfg.Order != swarm.UpdateOrderStartFirst || clean.Status.State == swarm.TaskStateRunning {
				for _, o := range s.tasks {
					if o.ID != clean.ID {
						r.setDesired(o, swarm.TaskStateShutdown)
					}
				}
			}
			continue
		}
		if dirty[s.key] {
			todo = append(todo, s)
		}
	}
	parallelism := int(cfg.Parallelism)
	if parallelism == 0 {
		parallelism = len(dirty)
	}
	for _, s := range todo {
		if inFlight >= parallelism {
			break
		}
		inFlight++
		nt := NewTask(r.svc, s.key.Slot, s.key.NodeID, r.now)
		if cfg.Order == swarm.UpdateOrderStartFirst {
			r.create(nt)
			continue
		}
		nt.DesiredState = swarm.TaskStateReady
		r.create(nt)
		for _, o := range s.tasks {
			r.setDesired(o, swarm.TaskStateShutdown)
		}
	}
}

// madeTasks gives the tasks the current update made: clean ones created since it started, not
// dropped by a scale-down. In a rollback, the replacement of a task that failed with the spec
// rolled back from is the restart policy's, not the rollback's: swarmkit's rollback finds that slot
// clean and has nothing to wait for there.
func (r *rc) madeTasks() []*store.Task {
	var startedAt time.Time
	us := r.svc.UpdateStatus
	if us != nil && us.StartedAt != nil {
		startedAt = *us.StartedAt
	}
	var restarted map[SlotKey]bool
	if us != nil && us.State == swarm.UpdateStateRollbackStarted {
		restarted = r.failedSlots()
	}
	var made []*store.Task
	for _, t := range r.tasks {
		if t.CreatedAt.Before(startedAt) || t.DesiredState == swarm.TaskStateRemove || restarted[slotKey(r.mode, t)] {
			continue
		}
		if !IsTaskDirty(r.svc, t, r.nodes[t.NodeID]) {
			made = append(made, t)
		}
	}
	return made
}

// rollbackShown is how long a rollback with nothing to revert stays started before it completes:
// long enough for the CLI, which polls the service, to print that the update was rolled back
// (swarmkit's takes about as long).
const rollbackShown = time.Second

// rollbackBegan estimates when a rollback started: when the replacements of the tasks whose
// failure started it were made, in the same pass. Zero when there are none.
func (r *rc) rollbackBegan() time.Time {
	var began time.Time
	failed := r.failedSlots()
	for _, t := range r.tasks {
		if failed[slotKey(r.mode, t)] && !IsTaskDirty(r.svc, t, r.nodes[t.NodeID]) && t.CreatedAt.After(began) {
			began = t.CreatedAt
		}
	}
	return began
}

// failedSlots are the slots where a task of a spec other than the service's failed or was
// rejected: in a rollback, those of the tasks whose failure started it.
func (r *rc) failedSlots() map[SlotKey]bool {
	slots := map[SlotKey]bool{}
	for _, t := range r.tasks {
		if (t.Status.State == swarm.TaskStateFailed || t.Status.State == swarm.TaskStateRejected) && IsTaskDirty(r.svc, t, r.nodes[t.NodeID]) {
			slots[slotKey(r.mode, t)] = true
		}
	}
	return slots
}

// checkUpdate applies the failure action of an update in progress before anything else in the pass,
// so that a rollback's spec is the one the pass restarts tasks with.
func (r *rc) checkUpdate() {
	us := r.svc.UpdateStatus
	if us == nil || (us.State != swarm.UpdateStateUpdating && us.State != swarm.UpdateStateRollbackStarted) {
		return
	}
	rollback := us.State == swarm.UpdateStateRollbackStarted
	dirty := map[SlotKey]bool{}
	for k, ts := range r.slots() {
		run := runnableOf(ts)
		if len(run) > 1 {
			dirty[k] = true
			continue
		}
		for _, t := range run {
			if IsTaskDirty(r.svc, t, r.nodes[t.NodeID]) {
				dirty[k] = true
			}
		}
	}
	r.failureAction(updateConfig(r.svc, rollback), rollback, r.madeTasks(), dirty)
}

// cleanTask gives the task of a slot made from the current spec that the slot keeps: one desired
// running before one still held at READY, then the newest.
func cleanTask(r *rc, ts []*store.Task) *store.Task {
	var best *store.Task
	for _, t := range ts {
		t = r.current(t)
		if !runnable(t) || IsTaskDirty(r.svc, t, r.nodes[t.NodeID]) {
			continue
		}
		if best == nil {
			best = t
			continue
		}
		tRun, bRun := t.DesiredState != swarm.TaskStateReady, best.DesiredState != swarm.TaskStateReady
		if tRun != bRun {
			if tRun {
				best = t
			}
			continue
		}
		if t.CreatedAt.After(best.CreatedAt) {
			best = t
		}
	}
	return best
}

// failureAction applies the update's failure action when too many of its tasks failed, and reports
// whether the update stops here.
func (r *rc) failureAction(cfg swarm.UpdateConfig, rollback bool, made []*store.Task, dirty map[SlotKey]bool) bool {
	if cfg.FailureAction == swarm.UpdateFailureActionContinue {
		return false
	}
	var failed []*store.Task
	inUpdate := map[SlotKey]bool{}
	for k := range dirty {
		inUpdate[k] = true
	}
	for _, t := range made {
		inUpdate[slotKey(r.mode, t)] = true
		if updateFailure(t, r.in.Observed.RunningAt, cfg.Monitor) {
			failed = append(failed, t)
		}
	}
	if len(failed) == 0 || float32(len(failed))/float32(len(inUpdate)) <= cfg.MaxFailureRatio {
		return false
	}
	sort.Slice(failed, func(i, j int) bool {
		if !failed[i].Status.Timestamp.Equal(failed[j].Status.Timestamp) {
			return failed[i].Status.Timestamp.Before(failed[j].Status.Timestamp)
		}
		return failed[i].ID < failed[j].ID
	})
	first := failed[0].ID
	s := r.serviceCopy()
	switch {
	case cfg.FailureAction == swarm.UpdateFailureActionRollback && !rollback && s.PreviousSpec != nil:
		s.Spec = *s.PreviousSpec
		s.PreviousSpec = nil
		s.SpecVersion = r.rollbackVersion(s)
		s.PreviousSpecVersion = 0
		s.UpdateStatus.State = swarm.UpdateStateRollbackStarted
		s.UpdateStatus.Message = fmt.Sprintf(msgRolledBack, first)
	case cfg.FailureAction == swarm.UpdateFailureActionRollback && rollback:
		s.UpdateStatus.State = swarm.UpdateStateRollbackPaused
		s.UpdateStatus.Message = fmt.Sprintf(msgRollbackPaused, first)
	default:
		s.UpdateStatus.State = swarm.UpdateStatePaused
		if rollback {
			s.UpdateStatus.State = swarm.UpdateStateRollbackPaused
		}
		s.UpdateStatus.Message = fmt.Sprintf(msgUpdatePaused, first)
	}
	return true
}

// rollbackVersion gives the spec version a rolled-back service returns to: PreviousSpecVersion when
// the control layer kept it, else the version of the tasks made from the restored spec, else a new one.
func (r *rc) rollbackVersion(s *store.Service) uint64 {
	if s.PreviousSpecVersion != 0 {
		return s.PreviousSpecVersion
	}
	var v uint64
	for _, t := range r.tasks {
		if t.SpecVersion < r.in.Service.SpecVersion && t.SpecVersion > v && sameJSON(t.Spec, s.Spec.TaskTemplate) {
			v = t.SpecVersion
		}
	}
	if v == 0 {
		v = r.in.Service.SpecVersion + 1
	}
	return v
}

// completeUpdate marks the update done once every task it made has run for Delay plus Monitor.
func (r *rc) completeUpdate(cfg swarm.UpdateConfig, rollback bool, made []*store.Task) {
	var last time.Time
	for _, t := range made {
		if runnable(t) && taskstate.Before(t.Status.State, swarm.TaskStateRunning) {
			return // still starting: its progress will wake us
		}
		if t.Status.Timestamp.After(last) {
			last = t.Status.Timestamp
		}
	}
	if len(made) > 0 {
		if done := last.Add(cfg.Delay + cfg.Monitor); r.now.Before(done) {
			r.wake(done)
			return
		}
	} else if began := r.rollbackBegan(); rollback && !began.IsZero() {
		if done := began.Add(rollbackShown); r.now.Before(done) {
			r.wake(done)
			return
		}
	}
	s := r.serviceCopy()
	now := r.now
	s.UpdateStatus.CompletedAt = &now
	if rollback {
		s.UpdateStatus.State = swarm.UpdateStateRollbackCompleted
		s.UpdateStatus.Message = MessageRollbackCompleted
	} else {
		s.UpdateStatus.State = swarm.UpdateStateCompleted
		s.UpdateStatus.Message = MessageUpdateCompleted
	}
}
