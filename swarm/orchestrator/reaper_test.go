package orchestrator

import (
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

func histTask(id, svc string, slot int, node string, desired, state swarm.TaskState, age time.Duration) *store.Task {
	t := &store.Task{}
	t.ID, t.ServiceID, t.Slot, t.NodeID = id, svc, slot, node
	t.DesiredState = desired
	t.Status = swarm.TaskStatus{State: state, Timestamp: t0.Add(-age)}
	return t
}

func TestReap(t *testing.T) {
	web := replicatedService("web", 1)
	glob := globalService("glob")
	gone := replicatedService("gone", 1)
	gone.PendingDelete = true
	done := replicatedService("done", 1)
	done.PendingDelete = true
	sd, run, rm := swarm.TaskStateShutdown, swarm.TaskStateRunning, swarm.TaskStateRemove

	var tasks []*store.Task
	// web slot 1: one running task and six dead ones, oldest w6.
	tasks = append(tasks, histTask("w0", "web", 1, "a", run, run, 0))
	for i := 1; i <= 6; i++ {
		tasks = append(tasks, histTask(fmt.Sprintf("w%d", i), "web", 1, "a", sd, swarm.TaskStateFailed, time.Duration(i)*time.Minute))
	}
	// web slot 2: under the limit.
	tasks = append(tasks, histTask("x1", "web", 2, "a", sd, sd, time.Hour), histTask("x2", "web", 2, "a", run, run, 0))
	// global service on node b: 6 tasks, one running.
	tasks = append(tasks, histTask("g0", "glob", 0, "b", run, run, 0))
	for i := 1; i <= 5; i++ {
		tasks = append(tasks, histTask(fmt.Sprintf("g%d", i), "glob", 0, "b", sd, sd, time.Duration(i)*time.Minute))
	}
	// scaled away: one stopped (delete), one still stopping (keep), one never placed (delete).
	tasks = append(tasks, histTask("r1", "web", 3, "a", rm, sd, 0), histTask("r2", "web", 4, "a", rm, run, 0),
		histTask("r3", "web", 5, "", rm, swarm.TaskStatePending, 0))
	// a deleted service's task still stopping (kept) and its dead task (deleted); a service being
	// removed with a task still stopping (kept) and a finished one (deleted); one with nothing left.
	tasks = append(tasks, histTask("p1", "vanished", 1, "a", rm, run, 0), histTask("o1", "vanished", 2, "a", sd, sd, 0),
		histTask("q1", "gone", 1, "a", rm, run, 0), histTask("q2", "gone", 1, "a", sd, swarm.TaskStateFailed, time.Hour))
	// a serviceless attachment task: kept until orphaned.
	tasks = append(tasks, histTask("n1", "", 0, "a", run, run, 0), histTask("n2", "", 0, "a", sd, swarm.TaskStateOrphaned, 0))

	out := Reap(ReapInput{Services: []*store.Service{web, glob, gone, done}, Tasks: tasks, Retention: 5})
	want := "[g5 n2 o1 q2 r1 r3 w5 w6]"
	if fmt.Sprint(out.Tasks) != want {
		t.Errorf("deleted tasks %v, want %s", out.Tasks, want)
	}
	if fmt.Sprint(out.Services) != "[done]" {
		t.Errorf("deleted services %v, want [done]", out.Services)
	}

	// Negative retention keeps all history; retention 1 keeps only the running task.
	out = Reap(ReapInput{Services: []*store.Service{web}, Tasks: tasks[:7], Retention: -1})
	if len(out.Tasks) != 0 {
		t.Errorf("retention -1 deleted %v", out.Tasks)
	}
	out = Reap(ReapInput{Services: []*store.Service{web}, Tasks: tasks[:7], Retention: 1})
	if len(out.Tasks) != 6 {
		t.Errorf("retention 1 deleted %v, want the six dead tasks", out.Tasks)
	}
	if got := Retention(nil); got != 5 {
		t.Errorf("default retention = %d", got)
	}
}
