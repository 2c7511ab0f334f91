package orchestrator

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

func withPolicy(s *store.Service, p swarm.RestartPolicy) *store.Service {
	s.Spec.TaskTemplate.RestartPolicy = &p
	return s
}

// failSlot1 makes the running, desired-running task of slot 1 fail now and returns it.
func (w *world) failSlot1(state swarm.TaskState) *store.Task {
	w.t.Helper()
	for _, tk := range w.list() {
		if tk.Slot == 1 && tk.DesiredState == swarm.TaskStateRunning && tk.Status.State == swarm.TaskStateRunning {
			w.setState(tk, state)
			return w.tasks[tk.ID]
		}
	}
	w.t.Fatalf("no running task in slot 1:\n%s", w.fingerprint())
	return nil
}

func TestRestartDelay(t *testing.T) {
	w := newWorld(t, replicatedService("web", 1), mkNode("a"))
	w.cycle()
	failed := w.failSlot1(swarm.TaskStateFailed)
	out := w.reconcile()
	if len(out.Update) != 1 || out.Update[0].ID != failed.ID || out.Update[0].DesiredState != swarm.TaskStateShutdown {
		t.Fatalf("failed task not shut down: %+v", out.Update)
	}
	if len(out.Create) != 1 {
		t.Fatalf("creates = %d", len(out.Create))
	}
	nt := out.Create[0]
	if nt.Slot != 1 || nt.DesiredState != swarm.TaskStateReady || nt.RestartAt != t0.Add(DefaultRestartDelay).UnixNano() {
		t.Fatalf("replacement slot %d desired %s restartAt %v", nt.Slot, nt.DesiredState, time.Unix(0, nt.RestartAt))
	}
	if !out.WakeAt.Equal(t0.Add(DefaultRestartDelay)) {
		t.Fatalf("WakeAt = %v, want now+5s", out.WakeAt)
	}
	if len(out.Restarts) != 1 || out.Restarts[0].Key.Slot != 1 {
		t.Fatalf("restarts recorded = %+v", out.Restarts)
	}
	// Before the delay nothing moves; after it the replacement may start.
	w.advance(4 * time.Second)
	if out := w.reconcile(); !out.Empty() {
		t.Fatalf("reconcile before the delay wrote %+v", out)
	}
	w.advance(time.Second)
	out = w.reconcile()
	if len(out.Update) != 1 || out.Update[0].ID != nt.ID || out.Update[0].DesiredState != swarm.TaskStateRunning {
		t.Fatalf("after the delay: %+v", out.Update)
	}
}

func TestRestartConditions(t *testing.T) {
	tests := []struct {
		name      string
		condition swarm.RestartPolicyCondition
		end       swarm.TaskState
		restart   bool
	}{
		{"any restarts a completed task", swarm.RestartPolicyConditionAny, swarm.TaskStateComplete, true},
		{"any restarts a failed task", swarm.RestartPolicyConditionAny, swarm.TaskStateFailed, true},
		{"on-failure restarts a failed task", swarm.RestartPolicyConditionOnFailure, swarm.TaskStateFailed, true},
		{"on-failure restarts a rejected task", swarm.RestartPolicyConditionOnFailure, swarm.TaskStateRejected, true},
		{"on-failure leaves a completed task", swarm.RestartPolicyConditionOnFailure, swarm.TaskStateComplete, false},
		{"none leaves a failed task", swarm.RestartPolicyConditionNone, swarm.TaskStateFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, withPolicy(replicatedService("web", 1), swarm.RestartPolicy{Condition: tt.condition, Delay: ptr(time.Duration(0))}), mkNode("a"))
			w.cycle()
			w.failSlot1(tt.end)
			out := w.reconcile()
			if got := len(out.Create) == 1; got != tt.restart {
				t.Fatalf("restarted = %v, want %v", got, tt.restart)
			}
			if tt.restart && out.Create[0].DesiredState != swarm.TaskStateRunning {
				t.Errorf("no delay, old task dead: replacement should start at once, desired %s", out.Create[0].DesiredState)
			}
			// A slot that finished for good stays filled: no new task on later passes.
			w.cycle()
			if !tt.restart {
				if n := len(w.tasks); n != 1 {
					t.Errorf("tasks = %d, want the finished one only", n)
				}
				// A spec change refills it.
				w.specChange(func(s *swarm.ServiceSpec) { s.Labels = map[string]string{"x": "y"} })
				if out := w.reconcile(); len(out.Create) != 1 {
					t.Errorf("after a spec change: %d creates, want 1", len(out.Create))
				}
			}
		})
	}
}

func TestRestartMaxAttempts(t *testing.T) {
	w := newWorld(t, withPolicy(replicatedService("web", 1),
		swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: ptr(time.Duration(0)), MaxAttempts: ptr[uint64](2)}), mkNode("a"))
	w.cycle()
	for i := 0; i < 2; i++ {
		w.failSlot1(swarm.TaskStateFailed)
		if out := w.reconcile(); len(out.Create) != 1 {
			t.Fatalf("failure %d: creates = %d, want a restart", i+1, len(out.Create))
		}
		w.cycle()
	}
	w.failSlot1(swarm.TaskStateFailed)
	if out := w.reconcile(); len(out.Create) != 0 {
		t.Fatalf("third failure restarted (max attempts 2)")
	}
	w.cycle()
	if got := w.count(func(tk *store.Task) bool { return runnable(tk) }); got != 0 {
		t.Fatalf("runnable tasks = %d, want 0 once attempts are used up", got)
	}
}

func TestRestartWindow(t *testing.T) {
	w := newWorld(t, withPolicy(replicatedService("web", 1), swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny,
		Delay: ptr(time.Duration(0)), MaxAttempts: ptr[uint64](1), Window: ptr(time.Minute)}), mkNode("a"))
	w.cycle()
	w.advance(time.Second)
	w.failSlot1(swarm.TaskStateFailed)
	if out := w.reconcile(); len(out.Create) != 1 {
		t.Fatal("first failure not restarted")
	}
	w.cycle()
	// A second failure within the window is not restarted...
	w.advance(30 * time.Second)
	w.failSlot1(swarm.TaskStateFailed)
	if out := w.reconcile(); len(out.Create) != 0 {
		t.Fatal("second failure within the window restarted")
	}

	// ...but one after the window is.
	w2 := newWorld(t, w.svc.Copy(), mkNode("a"))
	w2.cycle()
	w2.advance(time.Second)
	w2.failSlot1(swarm.TaskStateFailed)
	w2.reconcile()
	w2.cycle()
	w2.advance(2 * time.Minute)
	w2.failSlot1(swarm.TaskStateFailed)
	if out := w2.reconcile(); len(out.Create) != 1 {
		t.Fatal("failure after the window not restarted")
	}
}

func TestSeedRestarts(t *testing.T) {
	svc := replicatedService("web", 1)
	mk := func(id string, v uint64, at time.Duration) *store.Task {
		tk := &store.Task{}
		tk.ID, tk.ServiceID, tk.Slot, tk.SpecVersion, tk.CreatedAt = id, "web", 1, v, t0.Add(at)
		return tk
	}
	h := SeedRestarts(svc, []*store.Task{mk("c", 1, 2*time.Second), mk("a", 1, 0), mk("b", 1, time.Second), mk("d", 2, 3*time.Second)})
	got := h[SlotKey{ServiceID: "web", Slot: 1}]
	if len(got) != 2 || !got[0].At.Equal(t0.Add(time.Second)) || !got[1].At.Equal(t0.Add(2*time.Second)) || got[0].SpecVersion != 1 {
		t.Fatalf("seeded history = %+v", got)
	}
}

// TestRestartOfATaskHeldInItsDelay: a replacement is prepared while it waits out its restart
// delay; when that preparation fails (an image that cannot be pulled), its own replacement waits for
// the rest of the delay, so such a slot fails once per delay, not in a loop.
func TestRestartOfATaskHeldInItsDelay(t *testing.T) {
	w := newWorld(t, replicatedService("web", 1), mkNode("a"))
	w.cycle()
	w.failSlot1(swarm.TaskStateFailed)
	w.cycle()
	var held *store.Task
	for _, tk := range w.list() {
		if tk.DesiredState == swarm.TaskStateReady {
			held = tk
		}
	}
	if held == nil || held.Status.State != swarm.TaskStateReady {
		t.Fatalf("no replacement prepared and held:\n%s", w.fingerprint())
	}
	w.advance(time.Second)
	w.setState(held, swarm.TaskStateRejected)
	if out := w.reconcile(); len(out.Create) != 0 || !out.WakeAt.Equal(t0.Add(DefaultRestartDelay)) {
		t.Fatalf("a rejection within the delay: creates %d, wake %v", len(out.Create), out.WakeAt)
	}
	w.advance(DefaultRestartDelay - time.Second)
	out := w.reconcile()
	if len(out.Create) != 1 || out.Create[0].DesiredState != swarm.TaskStateReady ||
		out.Create[0].RestartAt != w.now.Add(DefaultRestartDelay).UnixNano() {
		t.Fatalf("after the delay: %+v", out.Create)
	}
	if len(out.Update) != 1 || out.Update[0].ID != held.ID || out.Update[0].DesiredState != swarm.TaskStateShutdown {
		t.Fatalf("the rejected task is not shut down: %+v", out.Update)
	}
}
