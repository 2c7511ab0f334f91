package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/scheduler/constraint"
	"github.com/shoal-project/shoal/swarm/store"
)

// filter decides whether a node can take a task, and says in Docker's words why nodes could not.
type filter interface {
	// enabled sets the filter up for the task and reports whether it applies to it at all.
	enabled(t *store.Task, svc *store.Service) bool
	// check reports whether the node can take the task given to enabled.
	check(n *nodeInfo) bool
	// explain words the failure of the filter on `nodes` nodes.
	explain(nodes int) string
}

func plural(nodes int, format string) string {
	if nodes == 1 {
		return fmt.Sprintf(format, "1 node")
	}
	return fmt.Sprintf(format, fmt.Sprintf("%d nodes", nodes))
}

// readyFilter: the node is up and takes new tasks.
type readyFilter struct{}

func (readyFilter) enabled(*store.Task, *store.Service) bool { return true }
func (readyFilter) check(n *nodeInfo) bool {
	return n.node.Status.State == swarm.NodeStateReady && n.node.Spec.Availability == swarm.NodeAvailabilityActive
}
func (readyFilter) explain(nodes int) string { return plural(nodes, "%s not available for new tasks") }

// resourceFilter: the node has the CPU and memory the task reserves.
type resourceFilter struct{ cpu, mem int64 }

func (f *resourceFilter) enabled(t *store.Task, _ *store.Service) bool {
	f.cpu, f.mem = reservations(&t.Spec)
	return f.cpu != 0 || f.mem != 0
}
func (f *resourceFilter) check(n *nodeInfo) bool {
	return f.cpu <= n.availableCPU && f.mem <= n.availableMemory
}
func (f *resourceFilter) explain(nodes int) string {
	return plural(nodes, "insufficient resources on %s")
}

// constraintFilter: the node satisfies the task's placement constraints.
type constraintFilter struct{ cs []constraint.Constraint }

func (f *constraintFilter) enabled(t *store.Task, _ *store.Service) bool {
	if t.Spec.Placement == nil || len(t.Spec.Placement.Constraints) == 0 {
		return false
	}
	cs, err := constraint.Parse(t.Spec.Placement.Constraints)
	if err != nil {
		// The control layer validates constraints; a bad one here disables the filter, as in swarmkit.
		return false
	}
	f.cs = cs
	return true
}
func (f *constraintFilter) check(n *nodeInfo) bool { return constraint.Matches(f.cs, &n.node.Node) }
func (f *constraintFilter) explain(nodes int) string {
	return plural(nodes, "scheduling constraints not satisfied on %s")
}

// platformFilter: the node runs one of the platforms the image supports.
type platformFilter struct{ platforms []swarm.Platform }

func (f *platformFilter) enabled(t *store.Task, _ *store.Service) bool {
	if t.Spec.Placement == nil || len(t.Spec.Placement.Platforms) == 0 {
		return false
	}
	f.platforms = t.Spec.Placement.Platforms
	return true
}

func normalArch(a string) string {
	switch a {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return a
}

func (f *platformFilter) check(n *nodeInfo) bool {
	np := n.node.Description.Platform
	for _, p := range f.platforms {
		if (p.Architecture == "" || normalArch(p.Architecture) == normalArch(np.Architecture)) &&
			(p.OS == "" || p.OS == np.OS) {
			return true
		}
	}
	return false
}
func (f *platformFilter) explain(nodes int) string {
	return plural(nodes, "unsupported platform on %s")
}

// hostPortFilter: the host-mode ports the task publishes are free on the node.
type hostPortFilter struct{ ports []hostPort }

func (f *hostPortFilter) enabled(_ *store.Task, svc *store.Service) bool {
	f.ports = hostPorts(svc)
	return len(f.ports) > 0
}
func (f *hostPortFilter) check(n *nodeInfo) bool {
	for _, p := range f.ports {
		if n.usedHostPorts[p] {
			return false
		}
	}
	return true
}
func (f *hostPortFilter) explain(nodes int) string {
	return plural(nodes, "host-mode port already in use on %s")
}

// maxReplicasFilter: the node runs fewer than Placement.MaxReplicas tasks of the service.
type maxReplicasFilter struct {
	serviceID string
	max       uint64
}

func (f *maxReplicasFilter) enabled(t *store.Task, _ *store.Service) bool {
	if t.Spec.Placement == nil || t.Spec.Placement.MaxReplicas == 0 {
		return false
	}
	f.serviceID, f.max = t.ServiceID, t.Spec.Placement.MaxReplicas
	return true
}
func (f *maxReplicasFilter) check(n *nodeInfo) bool {
	return uint64(n.activeByService[f.serviceID]) < f.max
}
func (f *maxReplicasFilter) explain(int) string { return "max replicas per node limit exceed" }

// pipeline runs the filters in order on a node, stopping at the first failure, and counts failures
// per filter since the last node that passed, to explain a task that fits nowhere.
type pipeline struct {
	filters  []filter
	on       []bool
	failures []int
}

func newPipeline() *pipeline {
	fs := []filter{
		readyFilter{},
		&resourceFilter{},
		&pluginFilter{},
		&constraintFilter{},
		&platformFilter{},
		&hostPortFilter{},
		&maxReplicasFilter{},
	}
	return &pipeline{filters: fs, on: make([]bool, len(fs)), failures: make([]int, len(fs))}
}

// setTask prepares the filters for a task and clears the failure counts.
func (p *pipeline) setTask(t *store.Task, svc *store.Service) {
	for i, f := range p.filters {
		p.on[i] = f.enabled(t, svc)
		p.failures[i] = 0
	}
}

// process reports whether the node passes every filter.
func (p *pipeline) process(n *nodeInfo) bool {
	for i, f := range p.filters {
		if p.on[i] && !f.check(n) {
			p.failures[i]++
			return false
		}
	}
	for i := range p.failures {
		p.failures[i] = 0
	}
	return true
}

// explain joins the failures, the most frequent first, as swarmkit does: "a; b".
func (p *pipeline) explain() string {
	idx := make([]int, 0, len(p.filters))
	for i := range p.filters {
		if p.failures[i] > 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p.failures[idx[a]] > p.failures[idx[b]] })
	parts := make([]string, 0, len(idx))
	for _, i := range idx {
		parts = append(parts, p.filters[i].explain(p.failures[i]))
	}
	return strings.Join(parts, "; ")
}

// noSuitableNode words a scheduling failure as swarmkit does.
func noSuitableNode(explanation string) string {
	if explanation == "" {
		return "no suitable node"
	}
	return "no suitable node (" + explanation + ")"
}
