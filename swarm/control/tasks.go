package control

import (
	"context"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/orchestrator"
	"github.com/shoal-project/shoal/swarm/store"
)

// taskStates are the task states a desired-state filter may name (swarmkit's TaskState names).
var taskStates = map[string]swarm.TaskState{}

func init() {
	for _, s := range []swarm.TaskState{
		swarm.TaskStateNew, swarm.TaskStateAllocated, swarm.TaskStatePending, swarm.TaskStateAssigned,
		swarm.TaskStateAccepted, swarm.TaskStatePreparing, swarm.TaskStateReady, swarm.TaskStateStarting,
		swarm.TaskStateRunning, swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed,
		swarm.TaskStateRejected, swarm.TaskStateRemove, swarm.TaskStateOrphaned,
	} {
		taskStates[strings.ToUpper(string(s))] = s
	}
}

// taskQuery is a task list filter with its names and prefixes resolved.
type taskQuery struct {
	names, ids     []string
	labels         labelFilter
	services       []string // service IDs
	nodes          []string // node IDs
	desired        []swarm.TaskState
	runtimes       []string
	upToDate       bool
	serviceFilter  bool
	nodeFilter     bool
	desiredFilter  bool
	labelsRequired bool
}

// GetTasks lists the tasks that pass the filters: name and id prefixes, label (of the task's service),
// service (names or ID prefixes), node (ID, hostname, ID prefix or "self"), desired-state, runtime,
// and _up-to-date (tasks made from the service's current spec). A service or node filter reads the
// store's task indexes, never all tasks.
func (c *Cluster) GetTasks(ctx context.Context, opts swarm.TaskListOptions) ([]swarm.Task, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	f := opts.Filters
	if err := validateFilters(f, taskFilterKeys); err != nil {
		return nil, err
	}
	self := c.localNodeID()
	q := taskQuery{
		names:          f.Get("name"),
		ids:            f.Get("id"),
		labels:         newLabelFilter(f.Get("label")),
		runtimes:       f.Get("runtime"),
		upToDate:       len(f.Get("_up-to-date")) != 0,
		serviceFilter:  f.Contains("service"),
		nodeFilter:     f.Contains("node"),
		labelsRequired: f.Contains("label"),
	}
	if len(q.runtimes) == 0 {
		q.runtimes = []string{string(swarm.RuntimeContainer), ""}
	}
	out := []swarm.Task{}
	st.View(func(tx store.ReadTx) {
		for _, ref := range f.Get("service") {
			var s *store.Service
			if s, err = resolveService(tx, ref); err != nil {
				return
			}
			q.services = appendUnique(q.services, s.ID)
		}
		for _, ref := range f.Get("node") {
			if ref == "self" && self != "" {
				q.nodes = appendUnique(q.nodes, self)
				continue
			}
			var n *store.Node
			if n, err = findNode(tx, ref); err != nil {
				return
			}
			q.nodes = appendUnique(q.nodes, n.ID)
		}
		for _, v := range f.Get("desired-state") {
			s, ok := taskStates[strings.ToUpper(v)]
			if !ok {
				if v != "" {
					// Docker returns this unclassified: 500.
					err = systemError("Invalid desired-state filter: '%s'", v)
					return
				}
				continue
			}
			q.desired = append(q.desired, s)
			q.desiredFilter = true
		}
		for _, t := range q.candidates(tx) {
			if q.match(tx, t) {
				out = append(out, taskOut(t))
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// candidates reads the tasks a query can match from the narrowest index it has, in ID order as a
// full list is.
func (q *taskQuery) candidates(tx store.ReadTx) []*store.Task {
	var out []*store.Task
	switch {
	case q.serviceFilter:
		for _, id := range q.services {
			out = append(out, tx.TasksByService(id)...)
		}
	case q.nodeFilter:
		for _, id := range q.nodes {
			out = append(out, tx.TasksByNode(id)...)
		}
	default:
		return tx.ListTasks()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (q *taskQuery) match(tx store.ReadTx, t *store.Task) bool {
	if !hasPrefixIn(t.ID, q.ids) || !isIn(taskRuntime(&t.Spec), q.runtimes) {
		return false
	}
	if q.serviceFilter && !isIn(t.ServiceID, q.services) {
		return false
	}
	if q.nodeFilter && !isIn(t.NodeID, q.nodes) {
		return false
	}
	if q.desiredFilter && !containsState(q.desired, t.DesiredState) {
		return false
	}
	if len(q.names) > 0 && !hasPrefixIn(taskName(tx, t), q.names) {
		return false
	}
	if q.labelsRequired || q.upToDate {
		s := tx.GetService(t.ServiceID)
		if q.labelsRequired {
			var labels map[string]string
			if s != nil {
				labels = s.Spec.Labels
			}
			if !q.labels.match(labels) {
				return false
			}
		}
		if q.upToDate && (s == nil || orchestrator.IsTaskDirty(s, t, tx.GetNode(t.NodeID))) {
			return false
		}
	}
	return true
}

func containsState(states []swarm.TaskState, s swarm.TaskState) bool {
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// taskRuntime names the runtime of a task spec as swarmkit's naming.Runtime does.
func taskRuntime(t *swarm.TaskSpec) string {
	switch {
	case t.Runtime != "":
		return string(t.Runtime)
	case t.ContainerSpec != nil:
		return string(swarm.RuntimeContainer)
	case t.NetworkAttachmentSpec != nil:
		return string(swarm.RuntimeNetworkAttachment)
	case t.PluginSpec != nil:
		return string(swarm.RuntimePlugin)
	}
	return ""
}

// GetTask finds a task by ID, name or ID prefix.
func (c *Cluster) GetTask(ctx context.Context, ref string) (swarm.Task, error) {
	st, err := c.managerStore()
	if err != nil {
		return swarm.Task{}, err
	}
	var t *store.Task
	st.View(func(tx store.ReadTx) { t, err = resolveTask(tx, ref) })
	if err != nil {
		return swarm.Task{}, err
	}
	return taskOut(t), nil
}

// taskOut is the Engine API view of a task as Docker converts it: Labels is never null, and a
// container task's spec does not name its runtime.
func taskOut(t *store.Task) swarm.Task {
	out := t.Task
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.Spec.Runtime == swarm.RuntimeContainer {
		out.Spec.Runtime = ""
	}
	return out
}
