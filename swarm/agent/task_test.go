package agent

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

func TestNextStep(t *testing.T) {
	const (
		assigned = swarm.TaskStateAssigned
		ready    = swarm.TaskStateReady
		running  = swarm.TaskStateRunning
		starting = swarm.TaskStateStarting
		shutdown = swarm.TaskStateShutdown
		remove   = swarm.TaskStateRemove
		failed   = swarm.TaskStateFailed
	)
	for _, c := range []struct {
		observed, desired swarm.TaskState
		started           bool
		want              step
	}{
		{assigned, running, false, stepAccept},
		{assigned, ready, false, stepAccept}, // held for its restart delay: prepared meanwhile
		{swarm.TaskStateAccepted, running, false, stepPrepare},
		{ready, running, false, stepStart},
		{ready, ready, false, stepIdle}, // held prepared
		{starting, running, false, stepStart},
		{starting, running, true, stepWait},
		{running, running, true, stepWait},
		{running, shutdown, true, stepShutdown},
		{assigned, shutdown, false, stepShutdown},
		{failed, running, true, stepIdle},
		{failed, shutdown, true, stepIdle},
		{failed, remove, true, stepRemove},
		{running, remove, true, stepRemove},
		{assigned, swarm.TaskStateComplete, false, stepAccept}, // a job's task runs to completion
		{running, swarm.TaskStateComplete, true, stepWait},
	} {
		if got := nextStep(c.observed, c.desired, c.started); got != c.want {
			t.Errorf("nextStep(%s, %s, %v) = %d, want %d", c.observed, c.desired, c.started, got, c.want)
		}
	}
}

// fakeController is an in-memory container for agent tests.
type fakeController struct {
	mu      sync.Mutex
	calls   []string
	exit    chan error
	prepErr error
	state   ContainerState
}

func (f *fakeController) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}
func (f *fakeController) Prepare(context.Context) error { f.record("prepare"); return f.prepErr }
func (f *fakeController) Start(context.Context) error   { f.record("start"); return nil }
func (f *fakeController) Wait(ctx context.Context) error {
	select {
	case err := <-f.exit:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (f *fakeController) Shutdown(context.Context) error {
	f.record("shutdown")
	select {
	case f.exit <- nil:
	default:
	}
	return nil
}
func (f *fakeController) Remove(context.Context) error                  { f.record("remove"); return nil }
func (f *fakeController) State(context.Context) (ContainerState, error) { return f.state, nil }

func collect(t *testing.T) (func(StatusUpdate), func(swarm.TaskState) []StatusUpdate) {
	var mu sync.Mutex
	var got []StatusUpdate
	report := func(u StatusUpdate) { mu.Lock(); got = append(got, u); mu.Unlock() }
	waitFor := func(s swarm.TaskState) []StatusUpdate {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := len(got)
			if n > 0 && got[n-1].Status.State == s {
				out := append([]StatusUpdate(nil), got...)
				mu.Unlock()
				return out
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("task never reached %s; reports: %+v", s, got)
		return nil
	}
	return report, waitFor
}

func TestRunnerLifecycle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	report, waitFor := collect(t)
	task := Task{Task: swarm.Task{ID: "t1", DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: swarm.TaskStateAssigned}}}
	fc := &fakeController{exit: make(chan error, 1)}
	r := newRunner(task, fc, report, time.Now)
	go r.run(ctx)
	ups := waitFor(swarm.TaskStateRunning)
	var states []swarm.TaskState
	for i, u := range ups {
		states = append(states, u.Status.State)
		if i > 0 && !u.Status.Timestamp.After(ups[i-1].Status.Timestamp) {
			t.Errorf("timestamps not increasing: %v then %v", ups[i-1].Status.Timestamp, u.Status.Timestamp)
		}
	}
	want := []swarm.TaskState{"accepted", "preparing", "ready", "starting", "running"}
	if len(states) != len(want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("states %v, want %v", states, want)
		}
	}
	// the container exits non-zero: failed with Docker's text
	fc.exit <- &ExitError{Code: 3}
	ups = waitFor(swarm.TaskStateFailed)
	if e := ups[len(ups)-1].Status.Err; e != "task: non-zero exit (3)" {
		t.Fatalf("err %q", e)
	}
	// the manager removes it
	task.DesiredState = swarm.TaskStateRemove
	r.update(task)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("runner did not end on remove")
	}
	if fc.calls[len(fc.calls)-1] != "remove" {
		t.Fatalf("calls %v", fc.calls)
	}
}

func TestRunnerShutdownAndReject(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	report, waitFor := collect(t)
	task := Task{Task: swarm.Task{ID: "t1", DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: swarm.TaskStateAssigned}}}
	fc := &fakeController{exit: make(chan error, 1)}
	r := newRunner(task, fc, report, time.Now)
	go r.run(ctx)
	waitFor(swarm.TaskStateRunning)
	task.DesiredState = swarm.TaskStateShutdown
	r.update(task)
	waitFor(swarm.TaskStateShutdown)

	report2, waitFor2 := collect(t)
	bad := &fakeController{exit: make(chan error, 1), prepErr: &ExitError{Code: 1}}
	bad.prepErr = errString("No such image: nope:latest")
	r2 := newRunner(Task{Task: swarm.Task{ID: "t2", DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: swarm.TaskStateAssigned}}}, bad, report2, time.Now)
	go r2.run(ctx)
	ups := waitFor2(swarm.TaskStateRejected)
	if ups[len(ups)-1].Status.Err != "No such image: nope:latest" {
		t.Fatalf("reject err %q", ups[len(ups)-1].Status.Err)
	}
}

func TestRunnerAdoptsAfterRestart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	report, waitFor := collect(t)
	gone := &fakeController{exit: make(chan error, 1), state: ContainerMissing}
	r := newRunner(Task{Task: swarm.Task{ID: "t1", DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: swarm.TaskStateRunning, Timestamp: time.Now()}}}, gone, report, time.Now)
	go r.run(ctx)
	waitFor(swarm.TaskStateFailed)

	alive := &fakeController{exit: make(chan error, 1), state: ContainerRunning}
	report2, waitFor2 := collect(t)
	r2 := newRunner(Task{Task: swarm.Task{ID: "t2", DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: swarm.TaskStateRunning, Timestamp: time.Now()}}}, alive, report2, time.Now)
	go r2.run(ctx)
	alive.exit <- nil
	waitFor2(swarm.TaskStateComplete)
	for _, c := range alive.calls {
		if c == "start" || c == "prepare" {
			t.Fatalf("adopted container was prepared or started again: %v", alive.calls)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
