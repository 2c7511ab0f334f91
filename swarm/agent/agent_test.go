package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// refusingExecutor has no controller for any task.
type refusingExecutor struct{}

func (refusingExecutor) Describe(context.Context) (swarm.NodeDescription, error) {
	return swarm.NodeDescription{}, nil
}
func (refusingExecutor) Controller(Task, Dependencies) (Controller, error) {
	return nil, errors.New("no container spec")
}

// TestAssignRejectsOnce: a task the executor cannot run is reported rejected, once; the agent does
// not report it again when the assignment comes back with the rejection.
func TestAssignRejectsOnce(t *testing.T) {
	now := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	a := New(Config{NodeID: "n1", Executor: refusingExecutor{}, Now: func() time.Time { return now }})
	tk := Task{Task: swarm.Task{ID: "t1", DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: swarm.TaskStateAssigned}}}
	done := make(chan struct{})
	go func() { a.assign(context.Background(), []Task{tk}); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("assign did not return (deadlock)")
	}
	u, ok := a.pending["t1"]
	if !ok || u.Status.State != swarm.TaskStateRejected || u.Status.Err != "no container spec" || u.Status.Message != "resolving controller failed" {
		t.Fatalf("pending report %+v", u)
	}
	delete(a.pending, "t1")
	tk.Status = u.Status
	a.assign(context.Background(), []Task{tk})
	if u, ok := a.pending["t1"]; ok {
		t.Errorf("reported again: %+v", u)
	}
}
