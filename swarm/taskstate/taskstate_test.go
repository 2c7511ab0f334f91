package taskstate

import (
	"errors"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		from, to swarm.TaskState
		ok       bool
	}{
		{swarm.TaskStateNew, swarm.TaskStatePending, true},
		{swarm.TaskStatePending, swarm.TaskStateAssigned, true},
		{swarm.TaskStatePending, swarm.TaskStatePending, true},
		{swarm.TaskStateAssigned, swarm.TaskStateRunning, true},
		{swarm.TaskStateRunning, swarm.TaskStateFailed, true},
		{swarm.TaskStateRunning, swarm.TaskStateComplete, true},
		{swarm.TaskStateComplete, swarm.TaskStateShutdown, true},
		{swarm.TaskStateShutdown, swarm.TaskStateOrphaned, true},
		{swarm.TaskStateRunning, swarm.TaskStateStarting, false},
		{swarm.TaskStateAssigned, swarm.TaskStatePending, false},
		{swarm.TaskStateFailed, swarm.TaskStateRunning, false},
		{swarm.TaskStateShutdown, swarm.TaskStateComplete, false},
		{swarm.TaskStateNew, "bogus", false},
		{"bogus", swarm.TaskStateNew, false},
	}
	for _, tt := range tests {
		err := Check(tt.from, tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%s, %s) = %v, want ok=%v", tt.from, tt.to, err, tt.ok)
		}
		var be *BackwardError
		if err != nil && !errors.As(err, &be) {
			t.Errorf("Check(%s, %s) error %T is not a *BackwardError", tt.from, tt.to, err)
		}
	}
}

func TestOrderMatchesDocker(t *testing.T) {
	want := []swarm.TaskState{"new", "allocated", "pending", "assigned", "accepted", "preparing", "ready",
		"starting", "running", "complete", "shutdown", "failed", "rejected", "remove", "orphaned"}
	got := States()
	if len(got) != len(want) {
		t.Fatalf("States() has %d states, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] || Rank(want[i]) != i {
			t.Errorf("state %d = %q (rank %d), want %q", i, got[i], Rank(want[i]), want[i])
		}
	}
	if Terminal(swarm.TaskStateRunning) || !Terminal(swarm.TaskStateComplete) || !Terminal(swarm.TaskStateRejected) {
		t.Error("Terminal: running must not be terminal; complete and rejected must be")
	}
	if !AtMost(swarm.TaskStateReady, swarm.TaskStateRunning) || AtMost(swarm.TaskStateShutdown, swarm.TaskStateRunning) {
		t.Error("AtMost: ready <= running, shutdown > running")
	}
}
