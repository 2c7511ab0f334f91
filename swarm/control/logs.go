package control

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/store"
)

// TaskLogSource reads the logs of task containers wherever they run. The manager's dispatcher
// implements it by asking the agent of the task's node over its session (the server wires it in
// with SetTaskLogSource, through the current membership).
type TaskLogSource interface {
	// TaskLogs streams the log of t's container on node t.NodeID: stdout and/or stderr, follow,
	// since, tail and timestamps as in opts (Tail is "", "all" or a non-negative number). It returns
	// an errdefs.NotFound error when the node has no container for t, and an errdefs.Unavailable
	// error when the node cannot be reached; a node lost mid-stream ends the channel with a message
	// carrying such an error. The channel closes at the end of the log (with Follow, once the
	// container has stopped) or when ctx ends. The messages belong to the caller, who may set their
	// Attrs.
	TaskLogs(ctx context.Context, t swarm.Task, opts container.LogsOptions) (<-chan *backend.LogMessage, error)
}

// SetTaskLogSource sets where ServiceLogs reads the logs of tasks.
func (c *Cluster) SetTaskLogSource(src TaskLogSource) {
	c.mu.Lock()
	c.logs = src
	c.mu.Unlock()
}

func (c *Cluster) taskLogSource() TaskLogSource {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.logs
}

// Log attributes the CLI reads to name each line ("web.1.<task>@<node>").
const (
	attrNodeID    = "com.docker.swarm.node.id"
	attrServiceID = "com.docker.swarm.service.id"
	attrTaskID    = "com.docker.swarm.task.id"
)

// ServiceLogs resolves the selected services and tasks, checks the options as Docker does, and
// streams the logs of their containers, each message with the node, service and task IDs as
// attributes. Without Follow the tasks' logs come one task after the other and the channel closes
// at the end, after swarmkit's "incomplete log stream" warning when a node could not be reached or
// a selected task was never scheduled; with Follow they are merged as they come, tasks that start
// later are added, what cannot be read is left out, and the channel closes when ctx ends.
func (c *Cluster) ServiceLogs(ctx context.Context, selector *backend.LogSelector, opts *container.LogsOptions) (<-chan *backend.LogMessage, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	var services, taskIDs []string
	st.View(func(tx store.ReadTx) {
		services, taskIDs, err = resolveLogSelector(tx, selector)
	})
	if err != nil {
		return nil, wrapClass(err, "error making log selector")
	}
	if opts.Tail != "" && opts.Tail != "all" {
		t, err := strconv.Atoi(opts.Tail)
		if err != nil {
			return nil, systemError(`tail value must be a positive integer or "all"`)
		}
		if t < 0 {
			return nil, systemError("negative tail values not supported")
		}
	}
	src := c.taskLogSource()
	if src == nil {
		return nil, errdefs.NotImplemented(plainError("task logs are not available on this node"))
	}
	sel := logSelection{services: map[string]bool{}, tasks: map[string]bool{}}
	for _, id := range services {
		sel.services[id] = true
	}
	for _, id := range taskIDs {
		sel.tasks[id] = true
	}
	var tasks []*store.Task
	collect := func(tx store.ReadTx) { tasks = sel.collect(tx) }
	ls := &logStream{src: src, opts: *opts, sel: sel,
		out: make(chan *backend.LogMessage, 64), started: map[string]bool{}}
	if !opts.Follow {
		st.View(collect)
		go ls.sequential(ctx, tasks)
		return ls.out, nil
	}
	events, cancel := st.ViewAndWatch(collect)
	go ls.follow(ctx, tasks, events, cancel)
	return ls.out, nil
}

// logSelection is what a log request selected: service and task IDs.
type logSelection struct {
	services, tasks map[string]bool
}

func (s logSelection) match(t *store.Task) bool {
	return s.services[t.ServiceID] || s.tasks[t.ID]
}

// collect lists the selected tasks, by slot (or node) and then age.
func (s logSelection) collect(tx store.ReadTx) []*store.Task {
	var out []*store.Task
	seen := map[string]bool{}
	for id := range s.services {
		for _, t := range tx.TasksByService(id) {
			if !seen[t.ID] {
				seen[t.ID] = true
				out = append(out, t)
			}
		}
	}
	for id := range s.tasks {
		if t := tx.GetTask(id); t != nil && !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.ServiceID != b.ServiceID {
			return a.ServiceID < b.ServiceID
		}
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		if a.NodeID != b.NodeID {
			return a.NodeID < b.NodeID
		}
		if !a.Meta.CreatedAt.Equal(b.Meta.CreatedAt) {
			return a.Meta.CreatedAt.Before(b.Meta.CreatedAt)
		}
		return a.ID < b.ID
	})
	return out
}

// logStream copies the logs of the selected tasks to out.
type logStream struct {
	src  TaskLogSource
	opts container.LogsOptions
	sel  logSelection
	out  chan *backend.LogMessage

	started map[string]bool // tasks whose logs are being read or were read (follow)
	wg      sync.WaitGroup

	mu      sync.Mutex
	missed  []string        // why some logs could not be read, in order (without follow)
	reasons map[string]bool // the reasons in missed
}

// sequential sends each task's log in turn, then the reasons why some could not be read, and
// closes out.
func (ls *logStream) sequential(ctx context.Context, tasks []*store.Task) {
	defer close(ls.out)
	for _, t := range tasks {
		if !ls.sel.tasks[t.ID] && !hasRun(t.Status.State) && t.Status.State != swarm.TaskStateRejected {
			continue // as swarmkit: a service's tasks that have not run yet are not asked for
		}
		if !ls.copyTask(ctx, t) {
			return
		}
	}
	if len(ls.missed) > 0 {
		ls.send(ctx, &backend.LogMessage{Err: incompleteLogs(strings.Join(ls.missed, ", "))})
	}
}

// incompleteLogs is swarmkit's error at the end of a log stream that lacks some logs (it reaches
// the daemon as a gRPC error, hence the prefix).
type incompleteLogs string

func (e incompleteLogs) Error() string {
	return "rpc error: code = Unknown desc = warning: incomplete log stream. some logs could not be retrieved for the following reasons: " + string(e)
}

// miss notes why some logs could not be read (once per reason). Followed streams leave them out
// silently, as swarmkit's never end.
func (ls *logStream) miss(reason string) {
	if ls.opts.Follow {
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.reasons == nil {
		ls.reasons = map[string]bool{}
	}
	if !ls.reasons[reason] {
		ls.reasons[reason] = true
		ls.missed = append(ls.missed, reason)
	}
}

// follow reads the logs of the running and finished tasks now, and of the others once they run,
// until ctx ends.
func (ls *logStream) follow(ctx context.Context, tasks []*store.Task, events <-chan store.Event, cancel func()) {
	defer close(ls.out)
	defer ls.wg.Wait()
	defer cancel()
	for _, t := range tasks {
		ls.startFollowing(ctx, t)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if t, ok := ev.Object.(*store.Task); ok && ev.Action != store.Delete && ls.sel.match(t) {
				ls.startFollowing(ctx, t)
			}
		}
	}
}

// startFollowing starts copying the log of t in the background once its container has run.
func (ls *logStream) startFollowing(ctx context.Context, t *store.Task) {
	if ls.started[t.ID] || !hasRun(t.Status.State) {
		return
	}
	ls.started[t.ID] = true
	ls.wg.Add(1)
	go func() {
		defer ls.wg.Done()
		ls.copyTask(ctx, t)
	}()
}

// hasRun reports whether a task in state s has had its container started.
func hasRun(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateRunning, swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed,
		swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

// copyTask sends the log of one task, with its attributes; false when ctx has ended.
func (ls *logStream) copyTask(ctx context.Context, t *store.Task) bool {
	if t.NodeID == "" {
		if ls.sel.tasks[t.ID] {
			ls.miss(fmt.Sprintf("task %s has not been scheduled", t.ID))
		}
		return true // never scheduled: no container anywhere
	}
	if d := t.Spec.LogDriver; d != nil && d.Name == "none" {
		return true // nothing kept to read: dockerd's service logs show nothing for it either
	}
	msgs, err := ls.src.TaskLogs(ctx, t.Task, ls.opts)
	if errdefs.IsNotFound(err) {
		return true // no container (yet, or any more)
	}
	if errdefs.IsUnavailable(err) {
		ls.miss(err.Error())
		return true
	}
	if err != nil {
		return ls.send(ctx, &backend.LogMessage{Err: fmt.Errorf("task %s: %w", t.ID, err)})
	}
	attrs := []backend.LogAttr{
		{Key: attrNodeID, Value: t.NodeID},
		{Key: attrServiceID, Value: t.ServiceID},
		{Key: attrTaskID, Value: t.ID},
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case m, ok := <-msgs:
			if !ok {
				return true
			}
			if m == nil {
				continue
			}
			if m.Err != nil && errdefs.IsUnavailable(m.Err) {
				ls.miss(m.Err.Error()) // the node was lost: what it sent stays
				return true
			}
			m.Attrs = append(append([]backend.LogAttr(nil), attrs...), m.Attrs...)
			if !ls.send(ctx, m) {
				return false
			}
		}
	}
}

func (ls *logStream) send(ctx context.Context, m *backend.LogMessage) bool {
	select {
	case ls.out <- m:
		return true
	case <-ctx.Done():
		return false
	}
}

// resolveLogSelector turns the selector's service and task references into IDs.
func resolveLogSelector(tx store.ReadTx, sel *backend.LogSelector) (services, tasks []string, err error) {
	if sel == nil {
		return nil, nil, nil
	}
	for _, ref := range sel.Services {
		s, err := resolveService(tx, ref)
		if err != nil {
			return nil, nil, err
		}
		if s.Spec.TaskTemplate.ContainerSpec == nil {
			return nil, nil, systemError("logs only supported on container tasks")
		}
		services = append(services, s.ID)
	}
	for _, ref := range sel.Tasks {
		t, err := resolveTask(tx, ref)
		if err != nil {
			return nil, nil, err
		}
		if t.Spec.ContainerSpec == nil {
			return nil, nil, systemError("logs only supported on container tasks")
		}
		tasks = append(tasks, t.ID)
	}
	return services, tasks, nil
}

// wrapClass prefixes an error's text and keeps its errdefs class, as pkg/errors.Wrap does in Docker.
func wrapClass(err error, prefix string) error {
	e := fmt.Errorf("%s: %w", prefix, err)
	switch {
	case errdefs.IsNotFound(err):
		return errdefs.NotFound(e)
	case errdefs.IsInvalidParameter(err):
		return errdefs.InvalidParameter(e)
	case errdefs.IsUnavailable(err):
		return errdefs.Unavailable(e)
	}
	return errdefs.System(e)
}
