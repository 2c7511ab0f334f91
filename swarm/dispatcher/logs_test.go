package dispatcher

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/agent"
)

const wait = 5 * time.Second

// nextSubs waits for a set of log subscriptions that satisfies ok.
func nextSubs(t *testing.T, s *Session, what string, ok func([]agent.LogSubscription) bool) []agent.LogSubscription {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case set := <-s.LogSubscriptions():
			if ok(set) {
				return set
			}
		case <-deadline:
			t.Fatalf("no log subscriptions: %s", what)
		}
	}
}

func one(set []agent.LogSubscription) bool  { return len(set) == 1 }
func none(set []agent.LogSubscription) bool { return len(set) == 0 }

// taskLogsResult is what TaskLogs returned, for calls made in the background.
type taskLogsResult struct {
	msgs <-chan *backend.LogMessage
	err  error
}

func taskLogsAsync(ctx context.Context, d *Dispatcher, id, nodeID string) <-chan taskLogsResult {
	res := make(chan taskLogsResult, 1)
	go func() {
		tk := swarm.Task{ID: id, NodeID: nodeID}
		msgs, err := d.TaskLogs(ctx, tk, container.LogsOptions{ShowStdout: true, Tail: "2"})
		res <- taskLogsResult{msgs, err}
	}()
	return res
}

func result(t *testing.T, res <-chan taskLogsResult) taskLogsResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(wait):
		t.Fatal("TaskLogs did not return")
	}
	return taskLogsResult{}
}

// lines reads msgs until it closes: each message as its line, or "error: text".
func lines(t *testing.T, msgs <-chan *backend.LogMessage) []string {
	t.Helper()
	var got []string
	deadline := time.After(wait)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return got
			}
			if m.Err != nil {
				got = append(got, "error: "+m.Err.Error())
			} else {
				got = append(got, m.Source+" "+string(m.Line))
			}
		case <-deadline:
			t.Fatalf("log stream did not end; got %q", got)
		}
	}
}

func publish(t *testing.T, s *Session, b agent.LogBatch) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.PublishLogs(ctx, b); err != nil {
		t.Fatalf("publish %+v: %v", b, err)
	}
}

func msg(line string) agent.LogMessage {
	return agent.LogMessage{Timestamp: time.Unix(1700000000, 0), Source: "stdout", Line: []byte(line)}
}

// A task's log travels from the node's session to the reader, batch by batch, and the
// subscription leaves the node's set when the log ends.
func TestTaskLogsThroughSession(t *testing.T) {
	ctx := context.Background()
	_, d := setup(t)
	s, err := d.Open(ctx, "n1", "", swarm.NodeDescription{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nextSubs(t, s, "empty set at open", none)

	res := taskLogsAsync(ctx, d, "t1", "n1")
	set := nextSubs(t, s, "the subscription for t1", one)
	sub := set[0]
	if sub.Task.ID != "t1" || sub.Options.Tail != "2" || !sub.Options.ShowStdout || sub.ID == "" {
		t.Fatalf("subscription %+v", sub)
	}
	publish(t, s, agent.LogBatch{Subscription: sub.ID}) // reading has started
	r := result(t, res)
	if r.err != nil {
		t.Fatal(r.err)
	}
	publish(t, s, agent.LogBatch{Subscription: sub.ID, Messages: []agent.LogMessage{msg("a\n"), msg("b\n")}})
	publish(t, s, agent.LogBatch{Subscription: sub.ID, Messages: []agent.LogMessage{msg("c\n")}, Close: true})
	if got := strings.Join(lines(t, r.msgs), ""); got != "stdout a\nstdout b\nstdout c\n" {
		t.Errorf("lines %q", got)
	}
	nextSubs(t, s, "empty set after the end", none)
	if err := s.PublishLogs(ctx, agent.LogBatch{Subscription: sub.ID}); !errors.Is(err, ErrLogSubscriptionGone) {
		t.Errorf("publish after the end: %v", err)
	}
}

// The node's first answer decides what TaskLogs returns.
func TestTaskLogsFirstAnswer(t *testing.T) {
	ctx := context.Background()
	_, d := setup(t)
	if _, err := d.TaskLogs(ctx, swarm.Task{ID: "t1", NodeID: "n1"}, container.LogsOptions{}); !errdefs.IsUnavailable(err) ||
		err.Error() != "node n1 is not available" {
		t.Fatalf("no session: %v", err)
	}
	s, err := d.Open(ctx, "n1", "", swarm.NodeDescription{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name  string
		first agent.LogBatch
		check func(error) bool
	}{
		{"no container", agent.LogBatch{Close: true, Missing: true}, errdefs.IsNotFound},
		{"read error", agent.LogBatch{Close: true, Err: "disk on fire"}, func(err error) bool { return err != nil && err.Error() == "disk on fire" }},
	}
	for _, tc := range tests {
		res := taskLogsAsync(ctx, d, "t1", "n1")
		set := nextSubs(t, s, tc.name, one)
		tc.first.Subscription = set[0].ID
		publish(t, s, tc.first)
		if r := result(t, res); !tc.check(r.err) {
			t.Errorf("%s: TaskLogs error %v", tc.name, r.err)
		}
		nextSubs(t, s, tc.name+": withdrawn", none)
	}
}

// A reader that goes away withdraws its subscription: the node's next batch is refused. A session
// that ends takes its subscriptions with it, and their readers learn the node is gone.
func TestTaskLogsReaderAndSessionEnd(t *testing.T) {
	ctx := context.Background()
	_, d := setup(t)
	s, err := d.Open(ctx, "n1", "", swarm.NodeDescription{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	rctx, cancel := context.WithCancel(ctx)
	res := taskLogsAsync(rctx, d, "t1", "n1")
	sub := nextSubs(t, s, "subscription", one)[0]
	publish(t, s, agent.LogBatch{Subscription: sub.ID})
	r := result(t, res)
	if r.err != nil {
		t.Fatal(r.err)
	}
	cancel()
	nextSubs(t, s, "withdrawn after the reader left", none)
	if err := s.PublishLogs(ctx, agent.LogBatch{Subscription: sub.ID, Messages: []agent.LogMessage{msg("late\n")}}); !errors.Is(err, ErrLogSubscriptionGone) {
		t.Errorf("publish after the reader left: %v", err)
	}

	// a session of another node cannot publish into this one's subscription
	res = taskLogsAsync(ctx, d, "t1", "n1")
	sub = nextSubs(t, s, "second subscription", one)[0]
	other, err := d.Open(ctx, "n1", "", swarm.NodeDescription{}) // newer session of the same node
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PublishLogs(ctx, agent.LogBatch{Subscription: sub.ID}); !errors.Is(err, ErrLogSubscriptionGone) {
		t.Errorf("publish through another session: %v", err)
	}
	other.Close()
	publish(t, s, agent.LogBatch{Subscription: sub.ID, Messages: []agent.LogMessage{msg("x\n")}})
	r = result(t, res)
	if r.err != nil {
		t.Fatal(r.err)
	}
	s.Close()
	if got := lines(t, r.msgs); len(got) != 2 || got[0] != "stdout x\n" || got[1] != "error: node n1 is not available" {
		t.Errorf("stream of a lost session: %q", got)
	}
	if _, err := d.TaskLogs(ctx, swarm.Task{ID: "t1", NodeID: "n1"}, container.LogsOptions{}); !errdefs.IsUnavailable(err) {
		t.Errorf("after the last session closed: %v", err)
	}
}
