package transport

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/dispatcher"
)

// loggingExecutor is fakeExecutor whose task t1 has a log: 300 lines, and with Follow one more
// line each time more is sent to, until the reading stops (told on stopped).
type loggingExecutor struct {
	fakeExecutor
	more    chan string
	stopped chan struct{}
}

func (e loggingExecutor) TaskLogs(ctx context.Context, t swarm.Task, opts container.LogsOptions) (<-chan *backend.LogMessage, error) {
	if t.ID != "t1" {
		return nil, errdefs.NotFound(fmt.Errorf("task %s has no container on this node", t.ID))
	}
	out := make(chan *backend.LogMessage)
	go func() {
		defer close(out)
		send := func(l string) bool {
			select {
			case out <- &backend.LogMessage{Line: []byte(l + "\n"), Source: "stdout", Timestamp: time.Unix(1700000000, 0)}:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for i := 1; i <= 300; i++ { // more than one batch
			if !send(fmt.Sprintf("line %d", i)) {
				return
			}
		}
		for opts.Follow {
			select {
			case l := <-e.more:
				if !send(l) {
					return
				}
			case <-ctx.Done():
				e.stopped <- struct{}{}
				return
			}
		}
	}()
	return out, nil
}

// next reads one message within a deadline; "" when the stream has ended.
func nextLine(t *testing.T, msgs <-chan *backend.LogMessage) string {
	t.Helper()
	select {
	case m, ok := <-msgs:
		if !ok {
			return ""
		}
		if m.Err != nil {
			return "error: " + m.Err.Error()
		}
		if m.Timestamp.Unix() != 1700000000 || m.Source != "stdout" {
			t.Errorf("message lost its time or source: %+v", m)
		}
		return strings.TrimSpace(string(m.Line))
	case <-time.After(10 * time.Second):
		t.Fatal("no log message within 10s")
	}
	return ""
}

// A manager reads a task's log from the node's agent over the channel: the node publishes it on
// its session for the subscription the manager opened, whole, followed, and ended by a lost node.
func TestTaskLogsOverChannel(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	st := sessionStore(t)
	d := dispatcher.New(st, quietLog())
	srv.ServeDispatcher(d)
	ex := loggingExecutor{more: make(chan string), stopped: make(chan struct{}, 4)}
	actx, stopAgent := context.WithCancel(context.Background())
	a := agent.New(agent.Config{NodeID: "w1", Executor: ex, Dispatcher: NewClient(cl.worker(t, "w1"), []string{addr}), Logger: quietLog()})
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(actx)
	}()
	defer func() {
		stopAgent()
		<-done
	}()
	ctx := ctxT(t, 60*time.Second)
	t1 := swarm.Task{ID: "t1", NodeID: "w1"}
	var msgs <-chan *backend.LogMessage
	waitFor(t, 20*time.Second, "a session of w1", func() bool {
		var err error
		msgs, err = d.TaskLogs(ctx, t1, container.LogsOptions{ShowStdout: true})
		return err == nil
	})
	for i := 1; i <= 300; i++ {
		if got, want := nextLine(t, msgs), fmt.Sprintf("line %d", i); got != want {
			t.Fatalf("line %d: %q", i, got)
		}
	}
	if got := nextLine(t, msgs); got != "" {
		t.Fatalf("after the last line: %q", got)
	}

	if _, err := d.TaskLogs(ctx, swarm.Task{ID: "t2", NodeID: "w1"}, container.LogsOptions{ShowStdout: true}); !errdefs.IsNotFound(err) {
		t.Fatalf("task without container: %v", err)
	}

	// follow: a line written later arrives; a reader that leaves stops the node's reading
	fctx, stopFollow := context.WithCancel(ctx)
	msgs, err := d.TaskLogs(fctx, t1, container.LogsOptions{ShowStdout: true, Follow: true, Tail: "1"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 300; i++ {
		nextLine(t, msgs)
	}
	ex.more <- "later"
	if got := nextLine(t, msgs); got != "later" {
		t.Fatalf("followed line %q", got)
	}
	stopFollow()
	select {
	case <-ex.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the node still follows a log nobody reads")
	}

	// the node is lost while a log is followed
	msgs, err = d.TaskLogs(ctx, t1, container.LogsOptions{ShowStdout: true, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 300; i++ {
		nextLine(t, msgs)
	}
	stopAgent()
	<-done
	if got := nextLine(t, msgs); got != "error: node w1 is not available" {
		t.Fatalf("after the node was lost: %q", got)
	}
	if _, err := d.TaskLogs(ctx, t1, container.LogsOptions{ShowStdout: true}); !errdefs.IsUnavailable(err) {
		t.Fatalf("logs of a node without session: %v", err)
	}
}
