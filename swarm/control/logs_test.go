package control

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/store"
)

func TestServiceLogsChecksBeforeStreaming(t *testing.T) {
	ctx := context.Background()
	c := taskFixture(t)
	opts := &container.LogsOptions{ShowStdout: true}
	_, err := c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"nope"}}, opts)
	wantErr(t, err, 404, "error making log selector: service nope not found")
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Tasks: []string{"t"}}, opts)
	wantErr(t, err, 400, "error making log selector: task t is ambiguous (5 matches found)")
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Tasks: []string{"t5attach"}}, opts)
	wantErr(t, err, 500, "error making log selector: logs only supported on container tasks")
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, &container.LogsOptions{Tail: "-2"})
	wantErr(t, err, 500, "negative tail values not supported")
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, &container.LogsOptions{Tail: "x"})
	wantErr(t, err, 500, `tail value must be a positive integer or "all"`)
	// A node without a log source cannot stream.
	_, err = c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, opts)
	wantErr(t, err, 501, "task logs are not available on this node")
}

// fakeLogSource serves fixed lines per task; tasks it does not know have no container. Follow keeps
// a task's stream open until ctx ends. The nodes in down cannot be reached; the tasks in lost end
// their stream with a lost node.
type fakeLogSource struct {
	lines map[string][]string
	down  map[string]bool
	lost  map[string]bool

	mu    sync.Mutex
	calls []string // task IDs asked for, with the options seen
}

func (f *fakeLogSource) TaskLogs(ctx context.Context, t swarm.Task, opts container.LogsOptions) (<-chan *backend.LogMessage, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf("%s tail=%s follow=%v", t.ID, opts.Tail, opts.Follow))
	f.mu.Unlock()
	if f.down[t.NodeID] {
		return nil, errdefs.Unavailable(fmt.Errorf("node %s is not available", t.NodeID))
	}
	lines, ok := f.lines[t.ID]
	if !ok {
		return nil, errdefs.NotFound(fmt.Errorf("no container for task %s", t.ID))
	}
	out := make(chan *backend.LogMessage)
	go func() {
		defer close(out)
		for _, l := range lines {
			select {
			case out <- &backend.LogMessage{Line: []byte(l + "\n"), Source: "stdout"}:
			case <-ctx.Done():
				return
			}
		}
		if f.lost[t.ID] {
			select {
			case out <- &backend.LogMessage{Err: errdefs.Unavailable(fmt.Errorf("node %s is not available", t.NodeID))}:
			case <-ctx.Done():
			}
			return
		}
		if opts.Follow {
			<-ctx.Done()
		}
	}()
	return out, nil
}

// logLine renders a message as "node/service/task line", or "error: text".
func logLine(m *backend.LogMessage) string {
	if m.Err != nil {
		return "error: " + m.Err.Error()
	}
	a := map[string]string{}
	for _, kv := range m.Attrs {
		a[kv.Key] = kv.Value
	}
	return fmt.Sprintf("%s/%s/%s %s", a[attrNodeID], a[attrServiceID], a[attrTaskID], strings.TrimSpace(string(m.Line)))
}

// drain reads msgs until it closes (within a deadline).
func drain(t *testing.T, msgs <-chan *backend.LogMessage) []string {
	t.Helper()
	var got []string
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return got
			}
			got = append(got, logLine(m))
		case <-deadline:
			t.Fatalf("log stream did not end; got so far %q", got)
		}
	}
}

func TestServiceLogsStreamsEveryNode(t *testing.T) {
	ctx := context.Background()
	c := taskFixture(t)
	src := &fakeLogSource{lines: map[string][]string{
		"t1run": {"one", "two"}, "t2old": {"old"}, "t3run": {"elsewhere"}, "t4db": {"db"},
	}}
	c.SetTaskLogSource(src)
	opts := &container.LogsOptions{ShowStdout: true, Tail: "5"}

	msgs, err := c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"node1/svcweb/t1run one", "node1/svcweb/t1run two", "node1/svcweb/t2old old", "node2/svcweb/t3run elsewhere"}
	if got := drain(t, msgs); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("service logs:\n got %q\nwant %q", got, want)
	}
	if got := strings.Join(src.calls, ","); got != "t1run tail=5 follow=false,t2old tail=5 follow=false,t3run tail=5 follow=false" {
		t.Errorf("source calls: %s", got)
	}

	msgs, err = c.ServiceLogs(ctx, &backend.LogSelector{Tasks: []string{"t2old"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, msgs); strings.Join(got, "|") != "node1/svcweb/t2old old" {
		t.Errorf("task logs: %q", got)
	}

	// A task without a container gives no lines and no error.
	delete(src.lines, "t1run")
	msgs, err = c.ServiceLogs(ctx, &backend.LogSelector{Tasks: []string{"t1run"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, msgs); len(got) != 0 {
		t.Errorf("logs of a task without container: %q", got)
	}
}

func TestServiceLogsFollowAddsNewTasks(t *testing.T) {
	c := taskFixture(t)
	st := c.node.Store()
	src := &fakeLogSource{lines: map[string][]string{"t1run": {"first"}, "t6new": {"from the new task"}}}
	c.SetTaskLogSource(src)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs, err := c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, &container.LogsOptions{ShowStdout: true, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	next := func() string {
		t.Helper()
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatal("follow stream closed early")
			}
			return logLine(m)
		case <-time.After(5 * time.Second):
			t.Fatal("no log line within 5s")
		}
		return ""
	}
	if got := next(); got != "node1/svcweb/t1run first" {
		t.Fatalf("first line %q", got)
	}
	// A replacement task appears: its log is read once it runs.
	nt := &store.Task{ServiceName: "web"}
	nt.ID, nt.ServiceID, nt.Slot, nt.NodeID = "t6new", "svcweb", 3, "node1"
	nt.Status.State, nt.DesiredState = swarm.TaskStateStarting, swarm.TaskStateRunning
	nt.Spec = swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "bb:1"}}
	put(t, st, nt)
	err = st.Update(context.Background(), func(tx store.Tx) error {
		cur := tx.GetTask("t6new").Copy()
		cur.Status.State = swarm.TaskStateRunning
		return tx.Update(cur)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "node1/svcweb/t6new from the new task" {
		t.Fatalf("line of the new task %q", got)
	}
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-msgs:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("follow stream not closed after cancel")
		}
	}
}

// Logs a node cannot send are left out; without follow the stream ends with swarmkit's warning,
// each reason once.
func TestServiceLogsIncomplete(t *testing.T) {
	ctx := context.Background()
	c := taskFixture(t)
	st := c.node.Store()
	src := &fakeLogSource{lines: map[string][]string{"t1run": {"one"}, "t2old": {"old"}, "t3run": {"elsewhere"}},
		lost: map[string]bool{"t1run": true}}
	c.SetTaskLogSource(src)
	const warn = "error: rpc error: code = Unknown desc = warning: incomplete log stream. some logs could not be retrieved for the following reasons: "
	tests := []struct {
		name   string
		down   map[string]bool
		follow bool
		want   []string
	}{
		{"node1 lost mid-stream", nil, false, []string{"node1/svcweb/t1run one", "node1/svcweb/t2old old", "node2/svcweb/t3run elsewhere",
			warn + "node node1 is not available"}},
		{"node2 down too", map[string]bool{"node2": true}, false, []string{"node1/svcweb/t1run one", "node1/svcweb/t2old old",
			warn + "node node1 is not available, node node2 is not available"}},
		{"follow leaves them out", map[string]bool{"node2": true}, true, []string{"node1/svcweb/t1run one", "node1/svcweb/t2old old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src.down = tc.down
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			msgs, err := c.ServiceLogs(cctx, &backend.LogSelector{Services: []string{"web"}}, &container.LogsOptions{ShowStdout: true, Follow: tc.follow})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if tc.follow {
				deadline := time.After(5 * time.Second)
				for len(got) < len(tc.want) {
					select {
					case m := <-msgs:
						got = append(got, logLine(m))
					case <-deadline:
						t.Fatalf("follow: got %q so far", got)
					}
				}
				cancel()
				got = append(got, drain(t, msgs)...)
				sort.Strings(got) // followed tasks are merged as they come
			} else {
				got = drain(t, msgs)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("logs:\n got %q\nwant %q", got, tc.want)
			}
		})
	}

	// a task asked for by ID that was never scheduled
	pending := &store.Task{ServiceName: "web"}
	pending.ID, pending.ServiceID, pending.Slot = "t7pending", "svcweb", 4
	pending.Status.State, pending.DesiredState = swarm.TaskStatePending, swarm.TaskStateRunning
	pending.Spec = swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "bb:1"}}
	put(t, st, pending)
	src.down = nil
	msgs, err := c.ServiceLogs(ctx, &backend.LogSelector{Tasks: []string{"t7pending"}}, &container.LogsOptions{ShowStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, msgs); strings.Join(got, "|") != warn+"task t7pending has not been scheduled" {
		t.Errorf("logs of an unscheduled task: %q", got)
	}
	// by service, tasks that have not run are not asked for
	src.calls = nil
	msgs, err = c.ServiceLogs(ctx, &backend.LogSelector{Services: []string{"web"}}, &container.LogsOptions{ShowStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, msgs)
	if got := strings.Join(src.calls, ","); strings.Contains(got, "t7pending") {
		t.Errorf("source asked for a pending task: %s", got)
	}
}
