package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/netview"
)

const netWait = 5 * time.Second

// netSession is a Session and a NetworkSession the test feeds; status reports go to updates.
type netSession struct {
	assign  chan []Task
	nets    chan netview.NodeView
	updates chan StatusUpdate
	done    chan struct{}
	once    sync.Once
}

func newNetSession() *netSession {
	return &netSession{assign: make(chan []Task), nets: make(chan netview.NodeView), updates: make(chan StatusUpdate, 100),
		done: make(chan struct{})}
}

func (s *netSession) Assignments() <-chan []Task                       { return s.assign }
func (s *netSession) Networks() <-chan netview.NodeView                { return s.nets }
func (s *netSession) Heartbeat(context.Context) (time.Duration, error) { return time.Hour, nil }
func (s *netSession) Done() <-chan struct{}                            { return s.done }
func (s *netSession) Close()                                           { s.once.Do(func() { close(s.done) }) }
func (s *netSession) UpdateStatus(ctx context.Context, us []StatusUpdate) error {
	for _, u := range us {
		select {
		case s.updates <- u:
		default:
		}
	}
	return nil
}

// view sends a view named name (its IngressAddr) to the agent.
func (s *netSession) view(t *testing.T, name string) {
	t.Helper()
	select {
	case s.nets <- netview.NodeView{IngressAddr: name, Networks: []netview.Network{{ID: "n-" + name}}}:
	case <-time.After(netWait):
		t.Fatalf("the agent does not take network view %s", name)
	}
}

// netDispatcher hands out the sessions the test gives it.
type netDispatcher struct{ sessions chan *netSession }

func (d netDispatcher) Session(ctx context.Context, nodeID string, desc swarm.NodeDescription) (Session, error) {
	select {
	case s := <-d.sessions:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// applyCall is one ApplyNetworks call in progress: the test answers it on reply.
type applyCall struct {
	view  string
	ctx   context.Context
	reply chan error
}

// netExecutor is an Executor and a NetworkApplier whose applies the test drives one by one.
type netExecutor struct {
	applies     chan *applyCall
	controllers chan string // the tasks given a controller
}

func (e *netExecutor) Describe(context.Context) (swarm.NodeDescription, error) {
	return swarm.NodeDescription{}, nil
}

func (e *netExecutor) Controller(t Task, _ Dependencies) (Controller, error) {
	e.controllers <- t.ID
	return &fakeController{exit: make(chan error)}, nil
}

func (e *netExecutor) ApplyNetworks(ctx context.Context, v netview.NodeView) error {
	if len(v.Networks) != 1 || v.Networks[0].ID != "n-"+v.IngressAddr {
		return errors.New("view garbled")
	}
	c := &applyCall{view: v.IngressAddr, ctx: ctx, reply: make(chan error, 1)}
	select {
	case e.applies <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// next waits for the next apply and checks its view.
func (e *netExecutor) next(t *testing.T, want string) *applyCall {
	t.Helper()
	select {
	case c := <-e.applies:
		if c.view != want {
			t.Fatalf("applied view %q, want %q", c.view, want)
		}
		return c
	case <-time.After(netWait):
		t.Fatalf("view %q not applied", want)
	}
	return nil
}

// startNetAgent runs an agent over sessions the test hands out, stopped when the test ends.
func startNetAgent(t *testing.T, retry time.Duration) (*netExecutor, netDispatcher) {
	t.Helper()
	ex := &netExecutor{applies: make(chan *applyCall), controllers: make(chan string, 10)}
	d := netDispatcher{sessions: make(chan *netSession)}
	a := New(Config{NodeID: "n1", Executor: ex, Dispatcher: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a.netRetry = retry
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(netWait):
			t.Error("agent did not stop")
		}
	})
	return ex, d
}

func (d netDispatcher) open(t *testing.T) *netSession {
	t.Helper()
	s := newNetSession()
	select {
	case d.sessions <- s:
	case <-time.After(netWait):
		t.Fatal("the agent opens no session")
	}
	return s
}

// Views are applied one at a time in order; those that a newer one replaced while an apply was in
// progress are skipped.
func TestNetworksLatestWins(t *testing.T) {
	ex, d := startNetAgent(t, time.Hour)
	s := d.open(t)
	s.view(t, "v1")
	c := ex.next(t, "v1")
	s.view(t, "v2")
	s.view(t, "v3")
	s.view(t, "v4")
	c.reply <- nil
	ex.next(t, "v4").reply <- nil
	s.view(t, "v5")
	ex.next(t, "v5").reply <- nil
}

// A failed apply is applied again after the retry wait; a failed view is not retried when a newer
// one came meanwhile.
func TestNetworksRetry(t *testing.T) {
	ex, d := startNetAgent(t, time.Millisecond)
	s := d.open(t)
	s.view(t, "v1")
	ex.next(t, "v1").reply <- errors.New("netlink: busy")
	ex.next(t, "v1").reply <- errors.New("netlink: busy")
	ex.next(t, "v1").reply <- nil

	s.view(t, "v2")
	c := ex.next(t, "v2")
	s.view(t, "v3")
	c.reply <- errors.New("netlink: busy")
	ex.next(t, "v3").reply <- nil
	s.view(t, "v4")
	ex.next(t, "v4").reply <- nil
}

// An apply in progress holds up neither assignments nor status reports. When the session ends
// the apply's context ends; nothing clears the data plane: the next apply is the new session's
// first view.
func TestNetworksDoNotBlockTasks(t *testing.T) {
	ex, d := startNetAgent(t, time.Hour)
	s := d.open(t)
	s.view(t, "v1")
	c := ex.next(t, "v1") // left unanswered

	tk := Task{Task: swarm.Task{ID: "t1", DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: swarm.TaskStateAssigned}}}
	select {
	case s.assign <- []Task{tk}:
	case <-time.After(netWait):
		t.Fatal("assignments held up by a network apply")
	}
	select {
	case id := <-ex.controllers:
		if id != "t1" {
			t.Fatalf("controller for %s", id)
		}
	case <-time.After(netWait):
		t.Fatal("no controller made while a network apply is in progress")
	}
	deadline := time.After(netWait)
	for running := false; !running; {
		select {
		case u := <-s.updates:
			running = u.TaskID == "t1" && u.Status.State == swarm.TaskStateRunning
		case <-deadline:
			t.Fatal("t1 not reported running while a network apply is in progress")
		}
	}
	s.view(t, "v2") // taken at once, applied after v1

	s.Close()
	select {
	case <-c.ctx.Done():
	case <-time.After(netWait):
		t.Fatal("the apply goes on after its session ended")
	}
	s2 := d.open(t)
	s2.view(t, "v9")
	ex.next(t, "v9").reply <- nil
}
