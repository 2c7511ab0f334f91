package taskstate

import (
	"fmt"

	"github.com/docker/docker/api/types/swarm"
)

// order lists the task states from first to last. A task's observed state may only move to a state
// later in this list (or stay where it is).
var order = []swarm.TaskState{
	swarm.TaskStateNew,
	swarm.TaskStateAllocated,
	swarm.TaskStatePending,
	swarm.TaskStateAssigned,
	swarm.TaskStateAccepted,
	swarm.TaskStatePreparing,
	swarm.TaskStateReady,
	swarm.TaskStateStarting,
	swarm.TaskStateRunning,
	swarm.TaskStateComplete,
	swarm.TaskStateShutdown,
	swarm.TaskStateFailed,
	swarm.TaskStateRejected,
	swarm.TaskStateRemove,
	swarm.TaskStateOrphaned,
}

var rank = func() map[swarm.TaskState]int {
	m := make(map[swarm.TaskState]int, len(order))
	for i, s := range order {
		m[s] = i
	}
	return m
}()

// Rank is the position of s in the task life cycle (new is 0), or -1 for a state Docker does not know.
func Rank(s swarm.TaskState) int {
	if r, ok := rank[s]; ok {
		return r
	}
	return -1
}

// Known reports whether s is one of Docker's task states.
func Known(s swarm.TaskState) bool { return Rank(s) >= 0 }

// Before reports whether a comes strictly before b in the life cycle.
func Before(a, b swarm.TaskState) bool { return Rank(a) < Rank(b) }

// After reports whether a comes strictly after b in the life cycle.
func After(a, b swarm.TaskState) bool { return Rank(a) > Rank(b) }

// AtMost reports whether a is b or comes before it (for example AtMost(s, running): not finished yet).
func AtMost(a, b swarm.TaskState) bool { return Rank(a) <= Rank(b) }

// Terminal reports whether s is past running: the task will never run again.
func Terminal(s swarm.TaskState) bool { return After(s, swarm.TaskStateRunning) }

// CanMove reports whether an observed state may change from `from` to `to`: both must be known states
// and `to` must not come before `from`. Staying in the same state is allowed (a new message or error).
func CanMove(from, to swarm.TaskState) bool {
	return Known(from) && Known(to) && Rank(to) >= Rank(from)
}

// BackwardError is returned by Check for a move that goes back in the life cycle.
type BackwardError struct {
	From, To swarm.TaskState
}

func (e *BackwardError) Error() string {
	if !Known(e.From) || !Known(e.To) {
		return fmt.Sprintf("task state %q -> %q: unknown task state", e.From, e.To)
	}
	return fmt.Sprintf("task state %q -> %q: task state cannot move backwards", e.From, e.To)
}

// Check returns nil when the move from `from` to `to` is allowed, else a *BackwardError.
func Check(from, to swarm.TaskState) error {
	if CanMove(from, to) {
		return nil
	}
	return &BackwardError{From: from, To: to}
}

// States returns Docker's task states in life-cycle order. The slice is a copy.
func States() []swarm.TaskState { return append([]swarm.TaskState(nil), order...) }
