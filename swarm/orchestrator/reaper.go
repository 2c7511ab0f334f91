package orchestrator

import (
	"sort"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// ReapInput is what the task reaper decides from. Its objects are read-only.
type ReapInput struct {
	Services []*store.Service
	Tasks    []*store.Task
	// Retention is the cluster's TaskHistoryRetentionLimit: how many tasks to keep per slot (per
	// node for global services). Negative: keep them all.
	Retention int64
}

// ReapOutput names what to delete, in ID order.
type ReapOutput struct {
	Tasks []string
	// Services are services marked PendingDelete none of whose tasks is left.
	Services []string
}

// Retention gives a cluster's task history retention limit (DefaultRetention when unset or no
// cluster).
func Retention(c *store.Cluster) int64 {
	if c == nil || c.Spec.Orchestration.TaskHistoryRetentionLimit == nil {
		return DefaultRetention
	}
	return *c.Spec.Orchestration.TaskHistoryRetentionLimit
}

// deletable reports whether the agent is done with a task: it ended, or it never reached a node.
func deletable(t *store.Task) bool {
	return taskstate.Terminal(t.Status.State) || taskstate.Before(t.Status.State, swarm.TaskStateAssigned)
}

// Reap decides which tasks and services to delete:
//   - tasks desired REMOVE (scaled away, service deleted, older job iteration) once the agent is done
//     with them, tasks of services no longer in the store likewise, and orphaned tasks that belong to
//     no service (network attachments of plain containers);
//   - beyond the retention limit, the oldest finished tasks of each slot, keeping the limit's number
//     of tasks in the slot (the running one included), as swarmkit does;
//   - services marked PendingDelete once none of their tasks is left.
func Reap(in ReapInput) ReapOutput {
	services := map[string]*store.Service{}
	for _, s := range in.Services {
		services[s.ID] = s
	}
	del := map[string]bool{}
	left := map[string]int{}
	bySlot := map[SlotKey][]*store.Task{}
	for _, t := range in.Tasks {
		svc := services[t.ServiceID]
		gone := t.ServiceID != "" && (svc == nil || svc.PendingDelete)
		orphan := t.ServiceID == "" && t.Status.State == swarm.TaskStateOrphaned
		if orphan || ((t.DesiredState == swarm.TaskStateRemove || gone) && deletable(t)) {
			del[t.ID] = true
			continue
		}
		left[t.ServiceID]++
		if svc != nil {
			k := slotKey(ModeOf(svc), t)
			bySlot[k] = append(bySlot[k], t)
		}
	}
	if in.Retention >= 0 {
		for _, ts := range bySlot {
			if int64(len(ts)) <= in.Retention {
				continue
			}
			sort.Slice(ts, func(i, j int) bool {
				if !ts[i].Status.Timestamp.Equal(ts[j].Status.Timestamp) {
					return ts[i].Status.Timestamp.Before(ts[j].Status.Timestamp)
				}
				return ts[i].ID < ts[j].ID
			})
			n := int64(len(ts))
			for _, t := range ts {
				if n <= in.Retention {
					break
				}
				if runnable(t) || !deletable(t) {
					continue
				}
				del[t.ID] = true
				left[t.ServiceID]--
				n--
			}
		}
	}
	var out ReapOutput
	for id := range del {
		out.Tasks = append(out.Tasks, id)
	}
	sort.Strings(out.Tasks)
	for _, s := range in.Services {
		if s.PendingDelete && left[s.ID] == 0 {
			out.Services = append(out.Services, s.ID)
		}
	}
	sort.Strings(out.Services)
	return out
}
