package orchestrator

import (
	"fmt"
	"sort"
	"testing"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

func TestReplicatedCreatesSlots(t *testing.T) {
	w := newWorld(t, replicatedService("web", 3), mkNode("n1"))
	out := w.reconcile()
	if len(out.Create) != 3 || len(out.Update) != 0 || out.Service != nil {
		t.Fatalf("create %d update %d service %v, want 3 creates only", len(out.Create), len(out.Update), out.Service)
	}
	var slots []int
	for _, tk := range out.Create {
		slots = append(slots, tk.Slot)
		if tk.Status.State != swarm.TaskStateNew || tk.Status.Message != "created" || !tk.Status.Timestamp.Equal(t0) ||
			tk.DesiredState != swarm.TaskStateRunning || tk.ServiceID != "web" || tk.ServiceName != "web" ||
			tk.SpecVersion != 1 || tk.NodeID != "" || tk.Spec.ContainerSpec.Image != "busybox:1" ||
			!tk.CreatedAt.Equal(t0) || tk.Labels == nil || len(tk.ID) != 25 {
			t.Errorf("bad new task %+v", tk)
		}
	}
	sort.Ints(slots)
	if fmt.Sprint(slots) != "[1 2 3]" {
		t.Errorf("slots = %v", slots)
	}
	if out := w.reconcile(); !out.Empty() {
		t.Fatalf("second reconcile not empty: %+v", out)
	}
}

func TestReplicatedScale(t *testing.T) {
	w := newWorld(t, replicatedService("web", 3), mkNode("n1"), mkNode("n2"))
	w.cycle()
	if got := len(w.running()); got != 3 {
		t.Fatalf("running slots = %d, want 3", got)
	}

	w.specChange(func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = ptr[uint64](10) })
	w.cycle()
	if got := w.running(); len(got) != 10 {
		t.Fatalf("after scale to 10 running = %v", got)
	}
	for slot := 1; slot <= 10; slot++ {
		if w.running()[fmt.Sprint(slot)] != 1 {
			t.Errorf("slot %d not running once", slot)
		}
	}
	if w.svc.UpdateStatus != nil {
		t.Errorf("a scale is not an update: UpdateStatus = %+v", w.svc.UpdateStatus)
	}

	w.specChange(func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = ptr[uint64](0) })
	out := w.reconcile()
	if len(out.Update) != 10 || len(out.Create) != 0 {
		t.Fatalf("scale to 0: %d updates %d creates", len(out.Update), len(out.Create))
	}
	for _, tk := range out.Update {
		if tk.DesiredState != swarm.TaskStateRemove {
			t.Errorf("task %s desired %s, want remove", tk.ID, tk.DesiredState)
		}
	}
	w.cycle()
	if got := len(w.running()); got != 0 {
		t.Fatalf("running after scale to 0 = %d", got)
	}
}

func TestScaleDownChoosesBusiestNodesAndNonRunning(t *testing.T) {
	w := newWorld(t, replicatedService("web", 4), mkNode("a"), mkNode("b"))
	out := w.reconcile()
	bySlot := map[int]*store.Task{}
	for _, tk := range out.Create {
		bySlot[tk.Slot] = tk
	}
	// slots 1, 2, 3 on a (3 copies), slot 4 on b; slot 2 is still starting.
	w.place(bySlot[1], "a")
	w.place(bySlot[2], "a")
	w.place(bySlot[3], "a")
	w.place(bySlot[4], "b")
	for _, s := range []int{1, 3, 4} {
		w.setState(w.tasks[bySlot[s].ID], swarm.TaskStateRunning)
	}
	w.specChange(func(s *swarm.ServiceSpec) { s.Mode.Replicated.Replicas = ptr[uint64](2) })
	out = w.reconcile()
	var removed []int
	for _, tk := range out.Update {
		if tk.DesiredState == swarm.TaskStateRemove {
			removed = append(removed, tk.Slot)
		}
	}
	sort.Ints(removed)
	// a keeps one copy (slot 1, running, lowest), b keeps slot 4; slot 2 (not running) and 3 go.
	if fmt.Sprint(removed) != "[2 3]" {
		t.Fatalf("removed slots %v, want [2 3]", removed)
	}
}

func TestDrainReplacesTasksPending(t *testing.T) {
	w := newWorld(t, replicatedService("foo", 3), mkNode("n1"))
	w.cycle()
	old := w.list()
	w.setNode("n1", drained)
	out := w.reconcile()
	if len(out.Update) != 3 || len(out.Create) != 3 {
		t.Fatalf("drain: %d updates %d creates, want 3 and 3", len(out.Update), len(out.Create))
	}
	for _, tk := range out.Update {
		if tk.DesiredState != swarm.TaskStateShutdown {
			t.Errorf("old task %s desired %s, want shutdown", tk.ID, tk.DesiredState)
		}
	}
	slots := map[int]bool{}
	for _, tk := range out.Create {
		slots[tk.Slot] = true
		// The old task is still running: the replacement waits for it (no restart delay on drain).
		if tk.DesiredState != swarm.TaskStateReady || tk.RestartAt != 0 {
			t.Errorf("replacement %s desired %s restartAt %d, want ready and no delay", tk.ID, tk.DesiredState, tk.RestartAt)
		}
	}
	if len(slots) != 3 {
		t.Errorf("replacements not in the same three slots: %v", slots)
	}
	if !out.WakeAt.Equal(t0.Add(oldTaskTimeout)) {
		t.Errorf("WakeAt = %v, want the old-task timeout", out.WakeAt)
	}
	// The agent stops the old tasks; the replacements may then run.
	for _, tk := range old {
		w.setState(w.tasks[tk.ID], swarm.TaskStateShutdown)
	}
	out = w.reconcile()
	if len(out.Update) != 3 {
		t.Fatalf("after old tasks stopped: %d updates, want 3 promotions", len(out.Update))
	}
	for _, tk := range out.Update {
		if tk.DesiredState != swarm.TaskStateRunning {
			t.Errorf("replacement %s desired %s, want running", tk.ID, tk.DesiredState)
		}
	}
	// No node is eligible: the scheduler keeps them pending (see the scheduler's tests for the reason).
	if got := w.count(func(tk *store.Task) bool { return tk.DesiredState == swarm.TaskStateRunning && tk.NodeID == "" }); got != 3 {
		t.Errorf("unassigned running-desired tasks = %d, want 3", got)
	}
	if out := w.reconcile(); !out.Empty() {
		t.Errorf("not settled: %+v", out)
	}
}

func TestNodeDownReplacesWithoutWaiting(t *testing.T) {
	w := newWorld(t, replicatedService("web", 2), mkNode("a"), mkNode("b"))
	w.cycle()
	w.setNode("a", down)
	out := w.reconcile()
	if len(out.Create) != 1 {
		t.Fatalf("creates = %d, want 1 replacement for the task on a", len(out.Create))
	}
	nt := out.Create[0]
	// Down node: the old task cannot be waited for, but the restart delay applies.
	if nt.DesiredState != swarm.TaskStateReady || nt.RestartAt != t0.Add(DefaultRestartDelay).UnixNano() {
		t.Fatalf("replacement desired %s restartAt %d", nt.DesiredState, nt.RestartAt)
	}
	w.advance(DefaultRestartDelay)
	out = w.reconcile()
	if len(out.Update) != 1 || out.Update[0].DesiredState != swarm.TaskStateRunning {
		t.Fatalf("after delay: %+v", out.Update)
	}
}

func TestDeletedServiceRemovesTasks(t *testing.T) {
	w := newWorld(t, replicatedService("web", 2), mkNode("a"))
	w.cycle()
	out := Reconcile(Input{Service: nil, Tasks: w.list(), Nodes: w.nodes, Now: w.now})
	if len(out.Update) != 2 {
		t.Fatalf("updates = %d", len(out.Update))
	}
	for _, tk := range out.Update {
		if tk.DesiredState != swarm.TaskStateRemove {
			t.Errorf("desired %s, want remove", tk.DesiredState)
		}
	}
	w.setService(func(s *store.Service) { s.PendingDelete = true })
	if out := w.reconcile(); len(out.Update) != 2 || len(out.Create) != 0 {
		t.Fatalf("pending delete: %d updates %d creates", len(out.Update), len(out.Create))
	}
}

// A task keeps the service's labels as they were when it was made (swarmkit's ServiceAnnotations):
// a copy, so a later change to the service does not reach it. Its own labels stay empty.
func TestNewTaskKeepsServiceLabels(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"none", nil, "map[]"},
		{"some", map[string]string{"a": "b", "c": ""}, "map[a:b c:]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := replicatedService("web", 1)
			svc.Spec.Labels = tt.labels
			tk := NewTask(svc, 1, "", t0)
			if got := fmt.Sprint(tk.ServiceLabels); got != tt.want {
				t.Fatalf("ServiceLabels = %s, want %s", got, tt.want)
			}
			if len(tk.Labels) != 0 {
				t.Fatalf("task labels = %v, want none", tk.Labels)
			}
			if svc.Spec.Labels != nil {
				svc.Spec.Labels["a"] = "changed"
				if tk.ServiceLabels["a"] != "b" {
					t.Fatal("task's service labels share the service's map")
				}
			}
		})
	}
}
