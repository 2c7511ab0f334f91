package orchestrator

import (
	"sort"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

// RestartRecord is one restart the orchestrator made in a slot: the spec version of the task that
// failed and when its replacement was made.
type RestartRecord struct {
	SpecVersion uint64
	At          time.Time
}

// Restart is a restart made by a reconcile pass, for the shell to remember once it is written.
type Restart struct {
	Key    SlotKey
	Record RestartRecord
}

// Observed is what the shell saw in the store's event stream that the store itself does not keep.
// Reconcile only reads it.
type Observed struct {
	// RunningAt is when each task was first seen running (update failure monitoring).
	RunningAt map[string]time.Time
	// Restarts lists the restarts made in each slot, oldest first (restart MaxAttempts and Window).
	Restarts map[SlotKey][]RestartRecord
}

// SeedRestarts rebuilds restart history from the tasks a new leader finds: within a slot, every task
// after the first of the same spec version is a restart made when it was created.
func SeedRestarts(svc *store.Service, tasks []*store.Task) map[SlotKey][]RestartRecord {
	mode := ModeOf(svc)
	bySlot := map[SlotKey][]*store.Task{}
	for _, t := range tasks {
		k := slotKey(mode, t)
		bySlot[k] = append(bySlot[k], t)
	}
	out := map[SlotKey][]RestartRecord{}
	for k, ts := range bySlot {
		byCreated(ts)
		seen := map[uint64]bool{}
		for _, t := range ts {
			if seen[t.SpecVersion] {
				out[k] = append(out[k], RestartRecord{SpecVersion: t.SpecVersion, At: t.CreatedAt})
			}
			seen[t.SpecVersion] = true
		}
	}
	return out
}

type restartPolicy struct {
	condition   swarm.RestartPolicyCondition
	delay       time.Duration
	maxAttempts uint64
	window      time.Duration
}

func policyOf(spec *swarm.TaskSpec) restartPolicy {
	p := restartPolicy{condition: swarm.RestartPolicyConditionAny, delay: DefaultRestartDelay}
	if rp := spec.RestartPolicy; rp != nil {
		if rp.Condition != "" {
			p.condition = rp.Condition
		}
		if rp.Delay != nil {
			p.delay = *rp.Delay
		}
		if rp.MaxAttempts != nil {
			p.maxAttempts = *rp.MaxAttempts
		}
		if rp.Window != nil {
			p.window = *rp.Window
		}
	}
	return p
}

// endedOnItsOwn reports whether a task stopped by itself (exited, failed, was rejected) rather than
// being stopped by the manager.
func endedOnItsOwn(t *store.Task) bool {
	switch t.Status.State {
	case swarm.TaskStateComplete, swarm.TaskStateFailed, swarm.TaskStateRejected:
		return true
	}
	return false
}

// shouldRestart applies a task's restart policy to its end: the condition (none, on-failure, any),
// then MaxAttempts restarts of the same spec version, counted within Window before the task ended
// when a window is set. The tasks of a job that complete are never restarted.
func shouldRestart(m Mode, t *store.Task, history []RestartRecord) bool {
	p := policyOf(&t.Spec)
	complete := t.Status.State == swarm.TaskStateComplete
	switch {
	case m.job() && complete:
		return false
	case p.condition == swarm.RestartPolicyConditionNone:
		return false
	case p.condition == swarm.RestartPolicyConditionOnFailure && complete:
		return false
	}
	if p.maxAttempts == 0 {
		return true
	}
	ended := t.Status.Timestamp
	var n uint64
	for _, r := range history {
		if r.SpecVersion != t.SpecVersion {
			continue
		}
		if p.window > 0 && (!r.At.After(ended.Add(-p.window)) || !r.At.Before(ended)) {
			continue
		}
		n++
	}
	return n < p.maxAttempts
}

// finished reports whether a slot whose newest task is t is done for good: t is of the current spec
// version, ended on its own, and its restart policy does not restart it. Such a slot counts as
// filled until the service's spec changes.
func finished(m Mode, svc *store.Service, t *store.Task, history []RestartRecord) bool {
	return t.SpecVersion == svc.SpecVersion && !runnable(t) && endedOnItsOwn(t) && !shouldRestart(m, t, history)
}

// newest gives the most recently created task of a list.
func newest(ts []*store.Task) *store.Task {
	if len(ts) == 0 {
		return nil
	}
	c := append([]*store.Task(nil), ts...)
	byCreated(c)
	return c[len(c)-1]
}

// sortedKeys gives slot keys in order: by slot number, then node ID.
func sortedKeys[V any](m map[SlotKey]V) []SlotKey {
	keys := make([]SlotKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Slot != keys[j].Slot {
			return keys[i].Slot < keys[j].Slot
		}
		return keys[i].NodeID < keys[j].NodeID
	})
	return keys
}
