package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"
)

const logWait = 5 * time.Second

// fakeLogReader serves fixed lines per task (then an error when the task is in broken); tasks it
// does not know have no container. With Follow a stream stays open until ctx ends, and the task
// is then reported on stopped (also when ctx ends before all lines are taken).
type fakeLogReader struct {
	lines   map[string][]string
	broken  map[string]bool
	stopped chan string
}

func (f *fakeLogReader) TaskLogs(ctx context.Context, t swarm.Task, opts container.LogsOptions) (<-chan *backend.LogMessage, error) {
	if t.ID == "denied" {
		return nil, errors.New("permission denied")
	}
	lines, ok := f.lines[t.ID]
	if !ok {
		return nil, errdefs.NotFound(fmt.Errorf("task %s has no container on this node", t.ID))
	}
	out := make(chan *backend.LogMessage)
	go func() {
		defer close(out)
		defer func() {
			if opts.Follow && ctx.Err() != nil {
				f.stopped <- t.ID
			}
		}()
		for _, l := range lines {
			select {
			case out <- &backend.LogMessage{Line: []byte(l + "\n"), Source: "stdout", Timestamp: time.Unix(1700000000, 0)}:
			case <-ctx.Done():
				return
			}
		}
		if f.broken[t.ID] {
			out <- &backend.LogMessage{Err: errors.New("bad json")}
			return
		}
		if opts.Follow {
			<-ctx.Done()
		}
	}()
	return out, nil
}

// fakeLogSession hands out subscription sets and records what is published; publishing a batch
// of a subscription in refuse fails.
type fakeLogSession struct {
	subs      chan []LogSubscription
	published chan LogBatch
	refuse    map[string]bool
}

func newFakeLogSession() *fakeLogSession {
	return &fakeLogSession{subs: make(chan []LogSubscription), published: make(chan LogBatch, 100), refuse: map[string]bool{}}
}

func (f *fakeLogSession) LogSubscriptions() <-chan []LogSubscription { return f.subs }

func (f *fakeLogSession) PublishLogs(ctx context.Context, b LogBatch) error {
	if f.refuse[b.Subscription] {
		return errors.New("log subscription is over")
	}
	f.published <- b
	return nil
}

func (f *fakeLogSession) offer(t *testing.T, set ...LogSubscription) {
	t.Helper()
	select {
	case f.subs <- set:
	case <-time.After(logWait):
		t.Fatal("publisher does not take subscription sets")
	}
}

// stream collects the batches published for sub until one closes it, rendered as "start" when
// the first batch is empty, the lines in order, and "close", "missing" or "err: text" at the end.
func (f *fakeLogSession) stream(t *testing.T, sub string) string {
	t.Helper()
	var parts []string
	deadline := time.After(logWait)
	for first := true; ; first = false {
		select {
		case b := <-f.published:
			if b.Subscription != sub {
				t.Fatalf("batch of %s while waiting for %s", b.Subscription, sub)
			}
			if first && len(b.Messages) == 0 {
				parts = append(parts, "start")
			}
			for _, m := range b.Messages {
				if m.Source != "stdout" || m.Timestamp.Unix() != 1700000000 {
					t.Errorf("message %+v lost its source or time", m)
				}
				parts = append(parts, strings.TrimSpace(string(m.Line)))
			}
			if b.Close {
				switch {
				case b.Missing:
					parts = append(parts, "missing")
				case b.Err != "":
					parts = append(parts, "err: "+b.Err)
				default:
					parts = append(parts, "close")
				}
				return strings.Join(parts, " ")
			}
		case <-deadline:
			t.Fatalf("subscription %s not closed; got %q", sub, parts)
		}
	}
}

func startPublisher(t *testing.T, reader LogReader, sess LogSession) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := newLogPublisher(reader, sess, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { defer close(done); p.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(logWait):
			t.Error("publisher did not stop")
		}
	})
}

func sub(id, task string, follow bool) LogSubscription {
	return LogSubscription{ID: id, Task: swarm.Task{ID: task}, Options: container.LogsOptions{ShowStdout: true, Follow: follow}}
}

func TestLogPublisherEndsOfStream(t *testing.T) {
	reader := &fakeLogReader{lines: map[string][]string{"t1": {"a", "b"}, "t2": {"x"}}, broken: map[string]bool{"t2": true}}
	sess := newFakeLogSession()
	startPublisher(t, reader, sess)
	tests := []struct{ name, task, want string }{
		{"whole log", "t1", "start a b close"},
		{"no container", "nope", "start missing"},
		{"reader fails at once", "denied", "start err: permission denied"},
		{"reader fails midway", "t2", "start x err: bad json"},
	}
	var set []LogSubscription
	for i, tc := range tests {
		s := sub(fmt.Sprintf("s%d", i), tc.task, false)
		set = append(set, s) // earlier ones stay in the set: they are not served twice
		sess.offer(t, set...)
		if got := sess.stream(t, s.ID); got != tc.want {
			t.Errorf("%s: published %q, want %q", tc.name, got, tc.want)
		}
	}
	select {
	case b := <-sess.published:
		t.Errorf("a subscription still in the set was served again: %+v", b)
	default:
	}
}

// A followed log goes on until its subscription leaves the set; then its reader stops.
func TestLogPublisherFollowUntilWithdrawn(t *testing.T) {
	reader := &fakeLogReader{lines: map[string][]string{"t1": {"a"}, "t2": {"b"}}, stopped: make(chan string, 2)}
	sess := newFakeLogSession()
	startPublisher(t, reader, sess)
	f1, f2 := sub("f1", "t1", true), sub("f2", "t2", true)
	sess.offer(t, f1, f2)
	seen := map[string][]string{}
	deadline := time.After(logWait)
	for len(seen["f1"]) < 2 || len(seen["f2"]) < 2 { // the start and the line of each
		select {
		case b := <-sess.published:
			if b.Close {
				t.Fatalf("followed log closed: %+v", b)
			}
			seen[b.Subscription] = append(seen[b.Subscription], fmt.Sprint(len(b.Messages)))
		case <-deadline:
			t.Fatalf("followed logs: %v", seen)
		}
	}
	sess.offer(t, f2)
	select {
	case id := <-reader.stopped:
		if id != "t1" {
			t.Fatalf("reader of %s stopped, want t1", id)
		}
	case <-time.After(logWait):
		t.Fatal("reader of the withdrawn subscription still runs")
	}
	select {
	case id := <-reader.stopped:
		t.Fatalf("reader of %s stopped while its subscription is open", id)
	default:
	}
}

// A manager that refuses a batch ends the subscription on the node; without a LogReader every
// subscription is answered with an error.
func TestLogPublisherRefusedAndNoReader(t *testing.T) {
	reader := &fakeLogReader{lines: map[string][]string{"t1": {"a"}}, stopped: make(chan string, 1)}
	sess := newFakeLogSession()
	sess.refuse["r1"] = true
	startPublisher(t, reader, sess)
	sess.offer(t, sub("r1", "t1", true))
	select {
	case id := <-reader.stopped:
		if id != "t1" {
			t.Fatalf("stopped %s", id)
		}
	case <-time.After(logWait):
		t.Fatal("reader goes on after the manager refused the subscription")
	}

	bare := newFakeLogSession()
	startPublisher(t, nil, bare)
	bare.offer(t, sub("n1", "t1", false))
	if got := bare.stream(t, "n1"); got != "start err: logs are not available on this node" {
		t.Errorf("without a reader: %q", got)
	}
}
