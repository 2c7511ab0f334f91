package orchestrator

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

func replicatedJob(total, concurrent uint64) *store.Service {
	s := replicatedService("job", 0)
	s.Spec.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{TotalCompletions: &total, MaxConcurrent: &concurrent}}
	s.Spec.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure, Delay: ptr(time.Duration(0))}
	s.JobStatus = &swarm.JobStatus{JobIteration: swarm.Version{Index: 7}}
	return s
}

// completeAll makes every running job task exit 0.
func (w *world) completeAll() {
	for _, tk := range w.list() {
		if tk.Status.State == swarm.TaskStateRunning {
			w.setState(tk, swarm.TaskStateComplete)
		}
	}
}

func TestReplicatedJob(t *testing.T) {
	w := newWorld(t, replicatedJob(5, 2), mkNode("a"))
	out := w.reconcile()
	if len(out.Create) != 2 {
		t.Fatalf("creates = %d, want MaxConcurrent 2", len(out.Create))
	}
	for _, tk := range out.Create {
		if tk.DesiredState != swarm.TaskStateComplete || tk.JobIteration == nil || tk.JobIteration.Index != 7 {
			t.Errorf("job task desired %s iteration %+v", tk.DesiredState, tk.JobIteration)
		}
	}
	w.cycle()
	if got := w.count(func(tk *store.Task) bool { return tk.Status.State == swarm.TaskStateRunning }); got != 2 {
		t.Fatalf("running = %d", got)
	}
	// A failure is restarted (on-failure); completions make room for the rest, never more than 5.
	for _, tk := range w.list() {
		if tk.Status.State == swarm.TaskStateRunning {
			w.setState(tk, swarm.TaskStateFailed)
			break
		}
	}
	w.cycle()
	for i := 0; i < 5; i++ {
		w.completeAll()
		w.cycle()
	}
	if got := w.count(func(tk *store.Task) bool { return tk.Status.State == swarm.TaskStateComplete }); got != 5 {
		t.Fatalf("completed = %d, want 5\n%s", got, w.fingerprint())
	}
	if got := w.count(func(tk *store.Task) bool { return runnable(tk) && tk.Status.State != swarm.TaskStateComplete }); got != 0 {
		t.Fatalf("tasks still at work = %d", got)
	}
	slots := map[int]bool{}
	for _, tk := range w.tasks {
		if tk.Status.State == swarm.TaskStateComplete {
			slots[tk.Slot] = true
		}
	}
	if len(slots) != 5 || !slots[0] || !slots[4] {
		t.Errorf("completed slots = %v, want 0 to 4 (job slots count from 0, as the CLI reads them)", slots)
	}

	// A new iteration drops nothing finished but starts over.
	w.setService(func(s *store.Service) { s.JobStatus.JobIteration.Index = 9 })
	out = w.reconcile()
	if len(out.Create) != 2 || out.Create[0].JobIteration.Index != 9 {
		t.Fatalf("new iteration creates %+v", out.Create)
	}
	if len(out.Update) != 0 {
		t.Errorf("a new iteration changed finished tasks of the old one: %+v", out.Update)
	}
}

func TestGlobalJob(t *testing.T) {
	s := replicatedJob(0, 0)
	s.Spec.Mode = swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}
	w := newWorld(t, s, mkNode("a"), mkNode("b"), mkNode("c", drained))
	out := w.reconcile()
	if len(out.Create) != 2 {
		t.Fatalf("creates = %d, want one per eligible node", len(out.Create))
	}
	w.cycle()
	w.completeAll()
	w.cycle()
	if out := w.reconcile(); !out.Empty() {
		t.Fatalf("a completed global job made %+v", out)
	}
	if got := w.count(func(tk *store.Task) bool { return tk.Status.State == swarm.TaskStateComplete }); got != 2 {
		t.Fatalf("completed = %d", got)
	}
}
