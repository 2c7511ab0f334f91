package scheduler

import (
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// Status messages the scheduler writes.
const (
	MessageAssigned     = "scheduler assigned task to node"
	MessageConfirmed    = "scheduler confirmed task can run on preassigned node"
	MessageShutdown     = "shutdown"
	preferenceNodeKey   = "node.labels."
	preferenceEngineKey = "engine.labels."
)

// Input is the snapshot the scheduler decides from. Its objects are read-only.
type Input struct {
	Nodes    []*store.Node
	Tasks    []*store.Task
	Services []*store.Service
	Now      time.Time
}

// Schedule decides the pending tasks of the snapshot. It returns changed copies of the tasks whose
// state or error changes, in task ID order:
//   - an unassigned pending task that fits a node: NodeID set, state assigned;
//   - a pending task preassigned to a node (global services) that fits it: state assigned; if it does
//     not fit, Status.Err says why;
//   - a pending task that fits no node: Status.Err = "no suitable node (...)", still pending;
//   - a pending task no longer wanted (desired past complete): state shutdown.
//
// Tasks of one service and spec version are placed together, spread over the nodes.
func Schedule(in Input) []*store.Task {
	services := make(map[string]*store.Service, len(in.Services))
	for _, s := range in.Services {
		services[s.ID] = s
	}
	nodes := make(map[string]*nodeInfo, len(in.Nodes))
	order := make([]*nodeInfo, 0, len(in.Nodes))
	for _, n := range in.Nodes {
		ni := newNodeInfo(n)
		nodes[n.ID] = ni
		order = append(order, ni)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].node.ID < order[j].node.ID })

	var unassigned, preassigned []*store.Task
	var out []*store.Task
	for _, t := range in.Tasks {
		if ni := nodes[t.NodeID]; ni != nil {
			if consumes(t) {
				ni.addTask(t, services[t.ServiceID])
			}
			ni.addFailure(t, in.Now)
		}
		if t.Status.State != swarm.TaskStatePending {
			continue
		}
		if !wanted(t) {
			// Never given to an agent: nobody else will move it on.
			out = append(out, shutdownTask(t, in.Now))
			continue
		}
		if t.NodeID == "" {
			unassigned = append(unassigned, t)
		} else {
			preassigned = append(preassigned, t)
		}
	}

	p := newPipeline()
	// Preassigned tasks first: global tasks must start where they belong.
	sort.Slice(preassigned, func(i, j int) bool { return preassigned[i].ID < preassigned[j].ID })
	for _, t := range preassigned {
		if nt := fitPreassigned(p, t, services[t.ServiceID], nodes[t.NodeID], in.Now); nt != nil {
			out = append(out, nt)
		}
	}
	for _, g := range groupTasks(unassigned) {
		out = append(out, scheduleGroup(p, g, services[g[0].ServiceID], order, in.Now)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// wanted reports whether a task is still meant to run: desired running (or ready, waiting to start),
// or desired complete for the tasks of a job.
func wanted(t *store.Task) bool {
	return taskstate.AtMost(t.DesiredState, swarm.TaskStateComplete)
}

func shutdownTask(t *store.Task, now time.Time) *store.Task {
	nt := t.Copy()
	nt.Status = swarm.TaskStatus{State: swarm.TaskStateShutdown, Timestamp: now, Message: MessageShutdown}
	return nt
}

// fitPreassigned checks a task against the node it was created for.
func fitPreassigned(p *pipeline, t *store.Task, svc *store.Service, ni *nodeInfo, now time.Time) *store.Task {
	if ni == nil {
		// The node is gone; the orchestrator will shut the task down.
		return nil
	}
	p.setTask(t, svc)
	if !p.process(ni) {
		explanation := p.explain()
		if t.Status.Err == explanation {
			return nil
		}
		nt := t.Copy()
		nt.Status.Err = explanation
		nt.Status.Timestamp = now
		return nt
	}
	nt := t.Copy()
	nt.Status = swarm.TaskStatus{State: swarm.TaskStateAssigned, Timestamp: now, Message: MessageConfirmed}
	ni.addTask(nt, svc)
	return nt
}

// groupTasks groups unassigned tasks by service and spec version (tasks that share a spec), in a
// stable order: groups by their first task ID, tasks by slot then ID.
func groupTasks(tasks []*store.Task) [][]*store.Task {
	type key struct {
		service string
		version uint64
	}
	byKey := map[key][]*store.Task{}
	var keys []key
	for _, t := range tasks {
		k := key{t.ServiceID, t.SpecVersion}
		if t.ServiceID == "" {
			k.service = "\x00" + t.ID // a task without a service is a group of its own
		}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], t)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].service != keys[j].service {
			return keys[i].service < keys[j].service
		}
		return keys[i].version < keys[j].version
	})
	out := make([][]*store.Task, 0, len(keys))
	for _, k := range keys {
		g := byKey[k]
		sort.Slice(g, func(i, j int) bool {
			if g[i].Slot != g[j].Slot {
				return g[i].Slot < g[j].Slot
			}
			return g[i].ID < g[j].ID
		})
		out = append(out, g)
	}
	return out
}

// nodeLess orders nodes for a service: nodes where the service keeps failing last, then fewest tasks
// of the service, then fewest tasks overall, then node ID.
func nodeLess(serviceID string) func(a, b *nodeInfo) bool {
	return func(a, b *nodeInfo) bool {
		fa, fb := a.failures(serviceID), b.failures(serviceID)
		if (fa >= maxFailures || fb >= maxFailures) && fa != fb {
			return fa < fb
		}
		if sa, sb := a.activeByService[serviceID], b.activeByService[serviceID]; sa != sb {
			return sa < sb
		}
		if a.active != b.active {
			return a.active < b.active
		}
		return a.node.ID < b.node.ID
	}
}

// branch is a group of nodes sharing a placement-preference label value (a decision tree level).
type branch struct {
	value    string
	nodes    []*nodeInfo
	children []*branch
}

// labelValue gives the value a spread descriptor ("node.labels.zone") picks on a node ("" if none).
func labelValue(descriptor string, n *store.Node) string {
	switch {
	case len(descriptor) > len(preferenceNodeKey) && strings.EqualFold(descriptor[:len(preferenceNodeKey)], preferenceNodeKey):
		return n.Spec.Labels[descriptor[len(preferenceNodeKey):]]
	case len(descriptor) > len(preferenceEngineKey) && strings.EqualFold(descriptor[:len(preferenceEngineKey)], preferenceEngineKey):
		return n.Description.Engine.Labels[descriptor[len(preferenceEngineKey):]]
	}
	return ""
}

// buildTree groups nodes by the preferences, level by level. Nodes missing a label form a group too.
func buildTree(nodes []*nodeInfo, prefs []string) *branch {
	root := &branch{nodes: nodes}
	if len(prefs) == 0 {
		return root
	}
	byValue := map[string]*branch{}
	for _, n := range nodes {
		v := labelValue(prefs[0], n.node)
		b := byValue[v]
		if b == nil {
			b = &branch{value: v}
			byValue[v] = b
			root.children = append(root.children, b)
		}
		b.nodes = append(b.nodes, n)
	}
	sort.Slice(root.children, func(i, j int) bool { return root.children[i].value < root.children[j].value })
	for i, c := range root.children {
		root.children[i] = buildTree(c.nodes, prefs[1:])
		root.children[i].value = c.value
	}
	return root
}

// pick chooses a node for one task: at each level the branch holding the fewest tasks of the service
// that still has a usable node, then the best usable node of the leaf.
func (b *branch) pick(serviceID string, usable func(*nodeInfo) bool, less func(a, b *nodeInfo) bool) *nodeInfo {
	if len(b.children) == 0 {
		var best *nodeInfo
		for _, n := range b.nodes {
			if usable(n) && (best == nil || less(n, best)) {
				best = n
			}
		}
		return best
	}
	cands := append([]*branch(nil), b.children...)
	sort.SliceStable(cands, func(i, j int) bool {
		return cands[i].serviceTasks(serviceID) < cands[j].serviceTasks(serviceID)
	})
	for _, c := range cands {
		if n := c.pick(serviceID, usable, less); n != nil {
			return n
		}
	}
	return nil
}

func (b *branch) serviceTasks(serviceID string) int {
	total := 0
	for _, n := range b.nodes {
		total += n.activeByService[serviceID]
	}
	return total
}

// scheduleGroup places the tasks of one service and spec version.
func scheduleGroup(p *pipeline, group []*store.Task, svc *store.Service, nodes []*nodeInfo, now time.Time) []*store.Task {
	first := group[0]
	p.setTask(first, svc)
	// Nodes that fail the pipeline are left out for the whole group; nodes that pass are checked
	// again after each placement (resources, ports and max replicas change).
	failed := map[*nodeInfo]bool{}
	for _, n := range nodes {
		if !p.process(n) {
			failed[n] = true
		}
	}
	var prefs []string
	if first.Spec.Placement != nil {
		for _, pref := range first.Spec.Placement.Preferences {
			if pref.Spread != nil {
				prefs = append(prefs, pref.Spread.SpreadDescriptor)
			}
		}
	}
	tree := buildTree(nodes, prefs)
	usable := func(n *nodeInfo) bool { return !failed[n] }
	less := nodeLess(first.ServiceID)

	var out []*store.Task
	for i, t := range group {
		n := tree.pick(first.ServiceID, usable, less)
		if n == nil {
			out = append(out, unplaced(group[i:], p.explain(), now)...)
			break
		}
		nt := t.Copy()
		nt.NodeID = n.node.ID
		nt.Status = swarm.TaskStatus{State: swarm.TaskStateAssigned, Timestamp: now, Message: MessageAssigned}
		n.addTask(nt, svc)
		out = append(out, nt)
		if !p.process(n) {
			failed[n] = true
		}
	}
	return out
}

// unplaced records why tasks found no node; tasks that already say so are left alone.
func unplaced(tasks []*store.Task, explanation string, now time.Time) []*store.Task {
	msg := noSuitableNode(explanation)
	var out []*store.Task
	for _, t := range tasks {
		if t.Status.Err == msg {
			continue
		}
		nt := t.Copy()
		nt.Status.Err = msg
		nt.Status.Timestamp = now
		out = append(out, nt)
	}
	return out
}
