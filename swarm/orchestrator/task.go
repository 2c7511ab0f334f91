package orchestrator

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/scheduler/constraint"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// Defaults Docker applies to what a service spec leaves out, and fixed timings.
const (
	DefaultRestartDelay = 5 * time.Second
	DefaultMonitor      = 5 * time.Second
	// DefaultRetention is the cluster's TaskHistoryRetentionLimit when it is not set.
	DefaultRetention = 5
	// oldTaskTimeout bounds how long a replacement waits for the task it replaces to stop.
	oldTaskTimeout = time.Minute
)

// MessageCreated is the status message of a new task.
const MessageCreated = "created"

// Mode is how a service runs its tasks.
type Mode int

// The service modes.
const (
	Replicated Mode = iota
	Global
	ReplicatedJob
	GlobalJob
)

// ModeOf gives a service's mode.
func ModeOf(s *store.Service) Mode {
	m := s.Spec.Mode
	switch {
	case m.Global != nil:
		return Global
	case m.ReplicatedJob != nil:
		return ReplicatedJob
	case m.GlobalJob != nil:
		return GlobalJob
	}
	return Replicated
}

func (m Mode) job() bool     { return m == ReplicatedJob || m == GlobalJob }
func (m Mode) perNode() bool { return m == Global || m == GlobalJob }

// SlotKey names a slot: (service, slot number) for replicated services and jobs, (service, node) for
// global ones.
type SlotKey struct {
	ServiceID string
	Slot      int
	NodeID    string
}

func slotKey(m Mode, t *store.Task) SlotKey {
	if m.perNode() {
		return SlotKey{ServiceID: t.ServiceID, NodeID: t.NodeID}
	}
	return SlotKey{ServiceID: t.ServiceID, Slot: t.Slot}
}

// NewTask makes a task of a service for a slot (replicated) or a node (global): state NEW, desired
// RUNNING (COMPLETE for jobs), the service's task template as its spec.
func NewTask(svc *store.Service, slot int, nodeID string, now time.Time) *store.Task {
	t := &store.Task{}
	t.ID = store.NewID()
	t.CreatedAt, t.UpdatedAt = now, now
	t.Labels = map[string]string{}
	t.Spec = copySpec(svc.Spec.TaskTemplate)
	t.ServiceID = svc.ID
	t.ServiceName = svc.Spec.Name
	if len(svc.Spec.Labels) > 0 {
		t.ServiceLabels = make(map[string]string, len(svc.Spec.Labels))
		for k, v := range svc.Spec.Labels {
			t.ServiceLabels[k] = v
		}
	}
	t.Slot = slot
	t.NodeID = nodeID
	t.SpecVersion = svc.SpecVersion
	t.DesiredState = swarm.TaskStateRunning
	mode := ModeOf(svc)
	if mode.job() {
		t.DesiredState = swarm.TaskStateComplete
		var iter swarm.Version
		if svc.JobStatus != nil {
			iter = svc.JobStatus.JobIteration
		}
		t.JobIteration = &iter
	}
	t.Status = swarm.TaskStatus{State: swarm.TaskStateNew, Timestamp: now, Message: MessageCreated}
	return t
}

func copySpec(s swarm.TaskSpec) swarm.TaskSpec {
	var out swarm.TaskSpec
	b, err := json.Marshal(s)
	if err != nil {
		panic("orchestrator: copy task spec: " + err.Error())
	}
	if err := json.Unmarshal(b, &out); err != nil {
		panic("orchestrator: copy task spec: " + err.Error())
	}
	return out
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// goal is the desired state of a task that is meant to finish its work: RUNNING for services,
// COMPLETE for jobs.
func goal(m Mode) swarm.TaskState {
	if m.job() {
		return swarm.TaskStateComplete
	}
	return swarm.TaskStateRunning
}

// runnable reports whether a task is still meant to run (desired state up to its goal).
func runnable(t *store.Task) bool {
	return taskstate.AtMost(t.DesiredState, swarm.TaskStateComplete) && t.DesiredState != ""
}

// IsTaskDirty reports whether a task was made from something other than the service's current spec:
// its spec version differs and its task spec differs (a change of placement constraints alone that
// the task's node still satisfies does not count), or the service's published endpoint changed in
// its last update and the task predates it. The control layer's "_up-to-date" filter is
// !IsTaskDirty. node may be nil.
func IsTaskDirty(s *store.Service, t *store.Task, node *store.Node) bool {
	if t.SpecVersion == s.SpecVersion {
		return false
	}
	if !sameJSON(t.Spec, s.Spec.TaskTemplate) {
		if node == nil || !onlyConstraintsDiffer(t.Spec, s.Spec.TaskTemplate) {
			return true
		}
		var exprs []string
		if p := s.Spec.TaskTemplate.Placement; p != nil {
			exprs = p.Constraints
		}
		return !constraint.NodeMatches(exprs, &node.Node)
	}
	if s.PreviousSpec != nil && t.SpecVersion < s.SpecVersion &&
		!sameJSON(s.PreviousSpec.EndpointSpec, s.Spec.EndpointSpec) {
		return true
	}
	return false
}

func onlyConstraintsDiffer(a, b swarm.TaskSpec) bool {
	a, b = copySpec(a), copySpec(b)
	for _, s := range []*swarm.TaskSpec{&a, &b} {
		if s.Placement != nil {
			s.Placement.Constraints = nil
			if sameJSON(s.Placement, swarm.Placement{}) {
				s.Placement = nil
			}
		}
	}
	return sameJSON(a, b)
}

// nodeGone reports whether a task's node can no longer run it: missing, down or drained.
func nodeGone(n *store.Node) bool {
	return n == nil || n.Status.State == swarm.NodeStateDown || n.Spec.Availability == swarm.NodeAvailabilityDrain
}

// nodeUnreachable reports whether a task's node cannot be waited for: missing or down.
func nodeUnreachable(n *store.Node) bool {
	return n == nil || n.Status.State == swarm.NodeStateDown
}

// byCreated sorts tasks oldest first (ID breaks ties).
func byCreated(ts []*store.Task) {
	sort.Slice(ts, func(i, j int) bool {
		if !ts[i].CreatedAt.Equal(ts[j].CreatedAt) {
			return ts[i].CreatedAt.Before(ts[j].CreatedAt)
		}
		return ts[i].ID < ts[j].ID
	})
}
