package agent

import (
	"context"
	"errors"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// stateOrder ranks task states as Docker orders them; status only ever moves to a higher rank.
var stateOrder = map[swarm.TaskState]int{
	swarm.TaskStateNew: 1, swarm.TaskStateAllocated: 2, swarm.TaskStatePending: 3, swarm.TaskStateAssigned: 4,
	swarm.TaskStateAccepted: 5, swarm.TaskStatePreparing: 6, swarm.TaskStateReady: 7, swarm.TaskStateStarting: 8,
	swarm.TaskStateRunning: 9, swarm.TaskStateComplete: 10, swarm.TaskStateShutdown: 11, swarm.TaskStateFailed: 12,
	swarm.TaskStateRejected: 13, swarm.TaskStateRemove: 14, swarm.TaskStateOrphaned: 15,
}

// Rank is a state's place in Docker's order (0 for an unknown state).
func Rank(s swarm.TaskState) int { return stateOrder[s] }

func terminal(s swarm.TaskState) bool { return Rank(s) >= Rank(swarm.TaskStateComplete) }

// step is what the task runner does next, decided from the task alone.
type step int

const (
	stepIdle     step = iota // nothing to do until the task changes
	stepAccept               // report accepted, then prepare
	stepPrepare              // pull and create
	stepStart                // start the container
	stepWait                 // wait for the running container
	stepShutdown             // stop the container, report shutdown
	stepRemove               // remove the container and forget the task
)

// nextStep is the agent's pure decision: given what it has observed of a task and what the manager
// wants, what comes next.
func nextStep(observed, desired swarm.TaskState, started bool) step {
	if Rank(desired) >= Rank(swarm.TaskStateRemove) {
		return stepRemove
	}
	if desired == swarm.TaskStateComplete {
		desired = swarm.TaskStateRunning // a job's task runs until it completes
	}
	if Rank(desired) > Rank(swarm.TaskStateRunning) {
		if !terminal(observed) {
			return stepShutdown
		}
		return stepIdle
	}
	switch {
	case terminal(observed):
		return stepIdle
	case Rank(observed) <= Rank(swarm.TaskStateAssigned):
		// A task held at desired READY (a restart waiting out its delay) is prepared at once and
		// waits at READY, as with Docker; the orchestrator paces a task that cannot be prepared.
		return stepAccept
	case observed == swarm.TaskStateAccepted || observed == swarm.TaskStatePreparing:
		return stepPrepare
	case observed == swarm.TaskStateReady:
		if Rank(desired) < Rank(swarm.TaskStateRunning) {
			return stepIdle // prepared and held (start-first updates wait here)
		}
		return stepStart
	case observed == swarm.TaskStateStarting:
		if started {
			return stepWait
		}
		return stepStart
	case observed == swarm.TaskStateRunning:
		return stepWait
	}
	return stepIdle
}

// stopWanted tells whether the manager wants the task's container stopped: a desired state past
// running other than complete (which a job's tasks run towards).
func stopWanted(desired swarm.TaskState) bool {
	return Rank(desired) > Rank(swarm.TaskStateRunning) && desired != swarm.TaskStateComplete
}

// ContainerStatusReporter is implemented by controllers that can tell the container's ID and PID.
type ContainerStatusReporter interface {
	ContainerStatus() *swarm.ContainerStatus
}

// PortStatusReporter is implemented by controllers whose container publishes ports in host mode.
type PortStatusReporter interface {
	PortStatus() swarm.PortStatus
}

// runner drives one task.
type runner struct {
	ctrl     Controller
	task     Task
	observed swarm.TaskState
	started  bool
	updates  chan Task // newer versions of the task from assignments (latest wins)
	report   func(StatusUpdate)
	now      func() time.Time
	last     time.Time
	done     chan struct{}
}

func newRunner(t Task, ctrl Controller, report func(StatusUpdate), now func() time.Time) *runner {
	return &runner{ctrl: ctrl, task: t, observed: t.Status.State, updates: make(chan Task, 1),
		report: report, now: now, last: t.Status.Timestamp, done: make(chan struct{})}
}

// update hands the runner a newer version of its task without blocking.
func (r *runner) update(t Task) {
	for {
		select {
		case r.updates <- t:
			return
		default:
		}
		select {
		case <-r.updates:
		default:
		}
	}
}

func (r *runner) setStatus(state swarm.TaskState, msg string, err error) {
	if Rank(state) <= Rank(r.observed) && state != r.observed {
		return
	}
	ts := r.now()
	if !ts.After(r.last) {
		ts = r.last.Add(time.Microsecond)
	}
	r.last = ts
	r.observed = state
	st := swarm.TaskStatus{State: state, Message: msg, Timestamp: ts}
	if err != nil {
		st.Err = err.Error()
	}
	if cs, ok := r.ctrl.(ContainerStatusReporter); ok {
		if c := cs.ContainerStatus(); c != nil {
			st.ContainerStatus = c
		}
	}
	if ps, ok := r.ctrl.(PortStatusReporter); ok {
		st.PortStatus = ps.PortStatus()
	}
	var exit *ExitError
	if errors.As(err, &exit) && st.ContainerStatus != nil {
		st.ContainerStatus.ExitCode = exit.Code
	}
	r.task.Status = st
	r.report(StatusUpdate{TaskID: r.task.ID, Status: st})
}

// run drives the task until it is removed or ctx ends.
func (r *runner) run(ctx context.Context) {
	defer close(r.done)
	r.adopt(ctx)
	for ctx.Err() == nil {
		switch nextStep(r.observed, r.task.DesiredState, r.started) {
		case stepIdle:
			select {
			case t := <-r.updates:
				r.task = t
			case <-ctx.Done():
				return
			}
		case stepAccept:
			r.setStatus(swarm.TaskStateAccepted, "accepted", nil)
			r.setStatus(swarm.TaskStatePreparing, "preparing", nil)
		case stepPrepare:
			if err := r.ctrl.Prepare(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				r.setStatus(swarm.TaskStateRejected, "preparing", err)
				continue
			}
			r.setStatus(swarm.TaskStateReady, "prepared", nil)
		case stepStart:
			r.setStatus(swarm.TaskStateStarting, "starting", nil)
			if err := r.ctrl.Start(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				r.setStatus(swarm.TaskStateFailed, "starting", err)
				continue
			}
			r.started = true
			r.waitHealthy(ctx)
		case stepWait:
			r.wait(ctx)
		case stepShutdown:
			if err := r.ctrl.Shutdown(ctx); err != nil && ctx.Err() != nil {
				return
			}
			r.setStatus(swarm.TaskStateShutdown, "shutdown", nil)
		case stepRemove:
			if !terminal(r.observed) {
				r.ctrl.Shutdown(ctx)
				r.setStatus(swarm.TaskStateShutdown, "shutdown", nil)
			}
			r.ctrl.Remove(ctx)
			return
		}
	}
}

// adopt picks up a task that was already past starting before shoald restarted.
func (r *runner) adopt(ctx context.Context) {
	if Rank(r.observed) < Rank(swarm.TaskStateStarting) || terminal(r.observed) {
		return
	}
	st, err := r.ctrl.State(ctx)
	switch {
	case err == nil && (st == ContainerRunning || st == ContainerExited):
		r.started = true
		if r.observed == swarm.TaskStateStarting {
			r.waitHealthy(ctx)
		}
	default:
		r.setStatus(swarm.TaskStateFailed, "started", errors.New("task: container missing after restart"))
	}
}

// waitHealthy reports running once the container is up (and healthy, when it has a health check).
func (r *runner) waitHealthy(ctx context.Context) {
	rd, ok := r.ctrl.(Readiness)
	if !ok {
		r.setStatus(swarm.TaskStateRunning, "started", nil)
		return
	}
	res := make(chan error, 1)
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { res <- rd.Healthy(hctx) }()
	for {
		select {
		case err := <-res:
			if err != nil {
				r.ctrl.Shutdown(ctx)
				r.setStatus(swarm.TaskStateFailed, "starting", err)
				return
			}
			r.setStatus(swarm.TaskStateRunning, "started", nil)
			return
		case t := <-r.updates:
			r.task = t
			if stopWanted(t.DesiredState) {
				return // the loop shuts it down
			}
		case <-ctx.Done():
			return
		}
	}
}

// wait waits for the container to stop, or for the manager to want it stopped.
func (r *runner) wait(ctx context.Context) {
	res := make(chan error, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { res <- r.ctrl.Wait(wctx) }()
	for {
		select {
		case err := <-res:
			if ctx.Err() != nil {
				return
			}
			if stopWanted(r.task.DesiredState) {
				r.setStatus(swarm.TaskStateShutdown, "shutdown", nil)
				return
			}
			if err == nil {
				r.setStatus(swarm.TaskStateComplete, "finished", nil)
			} else {
				r.setStatus(swarm.TaskStateFailed, "started", err)
			}
			return
		case t := <-r.updates:
			r.task = t
			if stopWanted(t.DesiredState) {
				r.ctrl.Shutdown(ctx)
				// the container's exit arrives on res and is reported as shutdown
			}
		case <-ctx.Done():
			return
		}
	}
}
