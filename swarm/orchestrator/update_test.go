package orchestrator

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

func image(t *store.Task) string { return t.Spec.ContainerSpec.Image }

// settle runs the world, following WakeAt, until nothing is left to do or limit passes. It returns
// for each task of the given image when it started running, relative to the start.
func (w *world) settle(limit time.Duration, img string) map[string]time.Duration {
	w.t.Helper()
	start := w.now
	started := map[string]time.Duration{}
	for w.now.Sub(start) <= limit {
		w.cycle()
		for _, tk := range w.tasks {
			if image(tk) == img && tk.Status.State == swarm.TaskStateRunning {
				if _, ok := started[tk.ID]; !ok {
					started[tk.ID] = tk.Status.Timestamp.Sub(start)
				}
			}
		}
		wake := w.last.WakeAt
		if wake.IsZero() {
			return started
		}
		if wake.After(w.now) {
			w.now = wake
		}
	}
	return started
}

func startTimes(m map[string]time.Duration) string {
	var ds []time.Duration
	for _, d := range m {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return fmt.Sprint(ds)
}

func updatable(n uint64, cfg *swarm.UpdateConfig) *store.Service {
	s := replicatedService("web", n)
	s.Spec.UpdateConfig = cfg
	return s
}

func (w *world) setImage(img string) {
	w.specChange(func(s *swarm.ServiceSpec) { s.TaskTemplate.ContainerSpec.Image = img })
}

func TestRollingUpdatePacing(t *testing.T) {
	tests := []struct {
		name   string
		cfg    *swarm.UpdateConfig
		starts string // when the new tasks started running
		done   time.Duration
	}{
		// Defaults: one at a time, no delay, stop-first, 5s monitor.
		{"defaults", nil, "[0s 0s 0s]", 5 * time.Second},
		{"parallelism 1, delay 10s", &swarm.UpdateConfig{Parallelism: 1, Delay: 10 * time.Second}, "[0s 10s 20s]", 35 * time.Second},
		{"parallelism 2, delay 10s", &swarm.UpdateConfig{Parallelism: 2, Delay: 10 * time.Second}, "[0s 0s 10s]", 25 * time.Second},
		{"parallelism 0 (all at once)", &swarm.UpdateConfig{Parallelism: 0, Delay: 10 * time.Second, Monitor: 2 * time.Second}, "[0s 0s 0s]", 12 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, updatable(3, tt.cfg), mkNode("a"), mkNode("b"))
			w.cycle()
			w.setImage("busybox:2")
			started := w.settle(time.Minute, "busybox:2")
			if got := startTimes(started); got != tt.starts {
				t.Errorf("new tasks started at %s, want %s", got, tt.starts)
			}
			us := w.svc.UpdateStatus
			if us == nil || us.State != swarm.UpdateStateCompleted || us.Message != "update completed" {
				t.Fatalf("update status = %+v", us)
			}
			if !us.StartedAt.Equal(t0) || us.CompletedAt.Sub(t0) != tt.done {
				t.Errorf("started %v completed after %v, want %v", us.StartedAt, us.CompletedAt.Sub(t0), tt.done)
			}
			if got := w.count(func(tk *store.Task) bool { return runnable(tk) && image(tk) == "busybox:2" }); got != 3 {
				t.Errorf("runnable new tasks = %d", got)
			}
			if got := w.count(func(tk *store.Task) bool { return runnable(tk) && image(tk) == "busybox:1" }); got != 0 {
				t.Errorf("runnable old tasks = %d", got)
			}
		})
	}
}

// With delays the default of one at a time shows: a slot waits for the one before to run.
func TestRollingUpdateOneAtATime(t *testing.T) {
	w := newWorld(t, updatable(3, nil), mkNode("a"))
	w.cycle()
	w.setImage("busybox:2")
	out := w.reconcile()
	if us := out.Service.UpdateStatus; us == nil || us.State != swarm.UpdateStateUpdating || us.Message != "update in progress" || !us.StartedAt.Equal(t0) {
		t.Fatalf("update status = %+v", out.Service.UpdateStatus)
	}
	if len(out.Create) != 1 || out.Create[0].Slot != 1 || out.Create[0].DesiredState != swarm.TaskStateReady {
		t.Fatalf("first step creates %+v", out.Create)
	}
	if len(out.Update) != 1 || out.Update[0].Slot != 1 || out.Update[0].DesiredState != swarm.TaskStateShutdown {
		t.Fatalf("first step stops %+v", out.Update)
	}
	// Until the old task stops, nothing else happens.
	if out := w.reconcile(); !out.Empty() {
		t.Fatalf("second pass wrote %+v", out)
	}
}

func TestRollingUpdateStartFirst(t *testing.T) {
	w := newWorld(t, updatable(2, &swarm.UpdateConfig{Parallelism: 1, Order: swarm.UpdateOrderStartFirst}), mkNode("a"))
	w.cycle()
	w.setImage("busybox:2")
	out := w.reconcile()
	if len(out.Create) != 1 || out.Create[0].DesiredState != swarm.TaskStateRunning || len(out.Update) != 0 {
		t.Fatalf("start-first step: creates %+v updates %+v", out.Create, out.Update)
	}
	newID := out.Create[0].ID
	// The old task keeps running until the new one runs.
	if out := w.reconcile(); !out.Empty() {
		t.Fatalf("old task stopped before the new one runs: %+v", out)
	}
	w.place(w.tasks[newID], "a")
	w.setState(w.tasks[newID], swarm.TaskStateRunning)
	out = w.reconcile()
	if len(out.Update) != 1 || out.Update[0].Slot != 1 || out.Update[0].DesiredState != swarm.TaskStateShutdown || image(out.Update[0]) != "busybox:1" {
		t.Fatalf("after the new task runs: %+v", out.Update)
	}
	w.settle(time.Minute, "busybox:2")
	if us := w.svc.UpdateStatus; us.State != swarm.UpdateStateCompleted {
		t.Fatalf("update status = %+v", us)
	}
}

// failNew makes the first running task of an image fail now.
func (w *world) failNew(img string) string {
	w.t.Helper()
	for _, tk := range w.list() {
		if image(tk) == img && runnable(tk) && tk.Status.State == swarm.TaskStateRunning {
			w.setState(tk, swarm.TaskStateFailed)
			return tk.ID
		}
	}
	w.t.Fatalf("no running %s task:\n%s", img, w.fingerprint())
	return ""
}

// failMade makes a running task of an image fail now: the newest one, outside slots where a task
// of another image failed (there the task is a restart's replacement, not the update's).
func (w *world) failMade(img string) string {
	w.t.Helper()
	failedSlot := map[int]bool{}
	for _, tk := range w.list() {
		if image(tk) != img && tk.Status.State == swarm.TaskStateFailed {
			failedSlot[tk.Slot] = true
		}
	}
	var pick *store.Task
	for _, tk := range w.list() {
		if image(tk) == img && runnable(tk) && tk.Status.State == swarm.TaskStateRunning && !failedSlot[tk.Slot] &&
			(pick == nil || tk.CreatedAt.After(pick.CreatedAt)) {
			pick = tk
		}
	}
	if pick == nil {
		w.t.Fatalf("no running %s task made by the update:\n%s", img, w.fingerprint())
	}
	w.setState(pick, swarm.TaskStateFailed)
	return pick.ID
}

// startUpdateAndFailFirst updates to busybox:2 and fails the first new task once it runs.
func startUpdateAndFailFirst(t *testing.T, cfg *swarm.UpdateConfig) (*world, string) {
	w := newWorld(t, updatable(3, cfg), mkNode("a"))
	w.cycle()
	w.setImage("busybox:2")
	w.cycle() // slot 1 replaced and running
	if w.svc.UpdateStatus.State != swarm.UpdateStateUpdating {
		t.Fatalf("update status = %+v", w.svc.UpdateStatus)
	}
	w.advance(time.Second)
	return w, w.failNew("busybox:2")
}

func TestUpdateFailurePause(t *testing.T) {
	w, failed := startUpdateAndFailFirst(t, &swarm.UpdateConfig{Parallelism: 1, Delay: 10 * time.Second})
	w.cycle()
	us := w.svc.UpdateStatus
	if us.State != swarm.UpdateStatePaused || us.Message != "update paused due to failure or early termination of task "+failed {
		t.Fatalf("update status = %+v", us)
	}
	// Paused: no more slots are updated, even after the delay; the failed task is still restarted.
	w.settle(time.Minute, "busybox:2")
	if got := w.count(func(tk *store.Task) bool { return runnable(tk) && image(tk) == "busybox:1" }); got != 2 {
		t.Errorf("old tasks still running = %d, want 2", got)
	}
	if got := len(w.running()); got != 3 {
		t.Errorf("running slots = %d, want 3", got)
	}
}

func TestUpdateFailureRollback(t *testing.T) {
	w, failed := startUpdateAndFailFirst(t, &swarm.UpdateConfig{Parallelism: 1, FailureAction: swarm.UpdateFailureActionRollback})
	out := w.reconcile()
	s := out.Service
	if s == nil || s.UpdateStatus.State != swarm.UpdateStateRollbackStarted ||
		s.UpdateStatus.Message != "update rolled back due to failure or early termination of task "+failed {
		t.Fatalf("after failure: %+v", s)
	}
	if s.Spec.TaskTemplate.ContainerSpec.Image != "busybox:1" || s.PreviousSpec != nil || s.SpecVersion != 1 {
		t.Fatalf("rollback spec image %s previous %v version %d", s.Spec.TaskTemplate.ContainerSpec.Image, s.PreviousSpec, s.SpecVersion)
	}
	// The failed task is replaced from the rolled-back spec, not the failing one.
	if len(out.Create) != 1 || image(out.Create[0]) != "busybox:1" {
		t.Fatalf("replacement of the failed task: %+v", out.Create)
	}
	w.settle(time.Minute, "busybox:1")
	us := w.svc.UpdateStatus
	if us.State != swarm.UpdateStateRollbackCompleted || us.Message != "rollback completed" || us.CompletedAt == nil {
		t.Fatalf("update status = %+v", us)
	}
	if got := w.count(func(tk *store.Task) bool { return runnable(tk) && image(tk) == "busybox:1" }); got != 3 {
		t.Errorf("runnable busybox:1 tasks = %d, want 3", got)
	}
	if got := w.count(func(tk *store.Task) bool { return runnable(tk) && image(tk) == "busybox:2" }); got != 0 {
		t.Errorf("runnable busybox:2 tasks = %d, want 0", got)
	}
}

// TestRollbackWithNothingToRevert: when the failed task was the only one the update made, the
// rollback has no slot to revert (the failed task's replacement is the restart policy's) and
// completes a moment later, without monitoring, as swarmkit's does: the CLI shows both that the
// update was rolled back and that the rollback completed.
func TestRollbackWithNothingToRevert(t *testing.T) {
	w := newWorld(t, updatable(3, &swarm.UpdateConfig{Parallelism: 1, Delay: 10 * time.Second, FailureAction: swarm.UpdateFailureActionRollback}), mkNode("a"))
	w.cycle()
	w.advance(time.Minute)
	w.setImage("busybox:2")
	w.cycle() // slot 1 replaced and running; the others wait for the delay
	w.advance(time.Second)
	w.failNew("busybox:2")
	w.cycle()
	if us := w.svc.UpdateStatus; us.State != swarm.UpdateStateRollbackStarted {
		t.Fatalf("status right after the rollback started = %+v", us)
	}
	w.advance(rollbackShown)
	w.cycle()
	if us := w.svc.UpdateStatus; us.State != swarm.UpdateStateRollbackCompleted {
		t.Fatalf("status %s after the rollback started = %+v", rollbackShown, us)
	}
	// A rollback that has slots to revert still waits for them and their monitoring.
	w2 := newWorld(t, updatable(3, &swarm.UpdateConfig{Parallelism: 1, Delay: 10 * time.Second, FailureAction: swarm.UpdateFailureActionRollback}), mkNode("a"))
	w2.cycle()
	w2.advance(time.Minute)
	w2.setImage("busybox:2")
	w2.cycle()                   // slot 1 updated and running
	w2.advance(11 * time.Second) // past the delay and its monitoring: a success
	w2.cycle()                   // the next slot updated and running
	w2.advance(time.Second)
	w2.failMade("busybox:2")
	w2.cycle()
	if us := w2.svc.UpdateStatus; us.State != swarm.UpdateStateRollbackStarted {
		t.Fatalf("status with a slot to revert = %+v", us)
	}
	w2.settle(time.Minute, "busybox:1")
	if us := w2.svc.UpdateStatus; us.State != swarm.UpdateStateRollbackCompleted {
		t.Fatalf("status after settling = %+v", us)
	}
}

func TestRollbackFailurePauses(t *testing.T) {
	w, _ := startUpdateAndFailFirst(t, &swarm.UpdateConfig{Parallelism: 1, FailureAction: swarm.UpdateFailureActionRollback})
	w.setService(func(s *store.Service) {
		s.Spec.RollbackConfig = &swarm.UpdateConfig{Parallelism: 1, FailureAction: swarm.UpdateFailureActionRollback}
		s.PreviousSpec.RollbackConfig = s.Spec.RollbackConfig
	})
	w.cycle()
	if w.svc.UpdateStatus.State != swarm.UpdateStateRollbackStarted {
		t.Fatalf("status = %+v", w.svc.UpdateStatus)
	}
	// The failed task's replacement, made with the rolled-back spec, waits out its restart delay.
	w.advance(DefaultRestartDelay)
	w.cycle()
	id := w.failMade("busybox:1") // a task made by the rollback fails
	w.cycle()
	us := w.svc.UpdateStatus
	if us.State != swarm.UpdateStateRollbackPaused || us.Message != "rollback paused due to failure or early termination of task "+id {
		t.Fatalf("status = %+v", us)
	}
}

func TestUpdateFailureToleratedOrContinued(t *testing.T) {
	for _, cfg := range []*swarm.UpdateConfig{
		{Parallelism: 1, MaxFailureRatio: 0.5},
		{Parallelism: 1, FailureAction: swarm.UpdateFailureActionContinue},
	} {
		w, _ := startUpdateAndFailFirst(t, cfg)
		w.settle(time.Minute, "busybox:2")
		if us := w.svc.UpdateStatus; us.State != swarm.UpdateStateCompleted {
			t.Errorf("config %+v: status = %+v", cfg, us)
		}
	}
}

func TestFailureAfterMonitorDoesNotCount(t *testing.T) {
	w := newWorld(t, updatable(2, &swarm.UpdateConfig{Parallelism: 1, Delay: time.Minute, Monitor: 5 * time.Second}), mkNode("a"))
	w.cycle()
	w.setImage("busybox:2")
	w.cycle()
	w.advance(10 * time.Second) // past the monitor period of the first new task
	w.failNew("busybox:2")
	w.cycle()
	if us := w.svc.UpdateStatus; us.State != swarm.UpdateStateUpdating {
		t.Fatalf("status = %+v, want still updating", us)
	}
}

func TestForceUpdateReplacesTasks(t *testing.T) {
	w := newWorld(t, updatable(2, &swarm.UpdateConfig{Parallelism: 0}), mkNode("a"))
	w.cycle()
	before := map[string]bool{}
	for id := range w.tasks {
		before[id] = true
	}
	w.specChange(func(s *swarm.ServiceSpec) { s.TaskTemplate.ForceUpdate++ })
	w.settle(time.Minute, "busybox:1")
	n := 0
	for _, tk := range w.tasks {
		if runnable(tk) {
			n++
			if before[tk.ID] {
				t.Errorf("task %s survived a forced update", tk.ID)
			}
		}
	}
	if n != 2 || w.svc.UpdateStatus.State != swarm.UpdateStateCompleted {
		t.Fatalf("runnable %d status %+v", n, w.svc.UpdateStatus)
	}
}

func TestManualRollback(t *testing.T) {
	w := newWorld(t, updatable(2, &swarm.UpdateConfig{Parallelism: 0}), mkNode("a"))
	w.svc.Spec.RollbackConfig = &swarm.UpdateConfig{Parallelism: 1, Delay: 10 * time.Second}
	w.cycle()
	w.setImage("busybox:2")
	w.settle(time.Minute, "busybox:2")
	// The control layer swaps the previous spec back and marks the rollback.
	w.setService(func(s *store.Service) {
		cur, curVersion := s.Spec, s.SpecVersion
		s.Spec, s.PreviousSpec = *s.PreviousSpec, &cur
		s.SpecVersion, s.PreviousSpecVersion = s.PreviousSpecVersion, curVersion
		now := w.now
		s.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateRollbackStarted, StartedAt: &now, Message: MessageManualRollback}
	})
	started := w.settle(time.Minute, "busybox:1")
	var rolled []time.Duration
	for id, d := range started {
		if w.tasks[id].CreatedAt.After(t0) {
			rolled = append(rolled, d)
		}
	}
	sort.Slice(rolled, func(i, j int) bool { return rolled[i] < rolled[j] })
	if fmt.Sprint(rolled) != "[0s 10s]" {
		t.Errorf("rollback tasks started at %v, want one at a time 10s apart (RollbackConfig)", rolled)
	}
	if us := w.svc.UpdateStatus; us.State != swarm.UpdateStateRollbackCompleted || us.Message != "rollback completed" {
		t.Fatalf("status = %+v", us)
	}
}

func TestIsTaskDirty(t *testing.T) {
	svc := replicatedService("web", 1)
	tk := NewTask(svc, 1, "", t0)
	n := mkNode("a", func(n *store.Node) { n.Spec.Labels = map[string]string{"zone": "east"} })
	tests := []struct {
		name  string
		spec  func(s *store.Service)
		dirty bool
	}{
		{"same version", func(s *store.Service) {}, false},
		{"replicas only", func(s *store.Service) { s.SpecVersion++; s.Spec.Mode.Replicated.Replicas = ptr[uint64](5) }, false},
		{"image", func(s *store.Service) { s.SpecVersion++; s.Spec.TaskTemplate.ContainerSpec.Image = "x" }, true},
		{"force", func(s *store.Service) { s.SpecVersion++; s.Spec.TaskTemplate.ForceUpdate = 1 }, true},
		{"constraint the node still meets", func(s *store.Service) {
			s.SpecVersion++
			s.Spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.labels.zone==east"}}
		}, false},
		{"constraint the node fails", func(s *store.Service) {
			s.SpecVersion++
			s.Spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.labels.zone==west"}}
		}, true},
		{"published ports changed", func(s *store.Service) {
			prev := s.Spec
			s.PreviousSpec = &prev
			s.SpecVersion++
			s.Spec.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{TargetPort: 80}}}
		}, true},
	}
	for _, tt := range tests {
		s := svc.Copy()
		tt.spec(s)
		if got := IsTaskDirty(s, tk, n); got != tt.dirty {
			t.Errorf("%s: dirty = %v, want %v", tt.name, got, tt.dirty)
		}
	}
	if !strings.HasPrefix(MessageManualRollback, "manually") {
		t.Fatal("message constant")
	}
}

func TestRollbackVersionWithoutPreviousSpecVersion(t *testing.T) {
	w, _ := startUpdateAndFailFirst(t, &swarm.UpdateConfig{Parallelism: 1, FailureAction: swarm.UpdateFailureActionRollback})
	w.setService(func(s *store.Service) { s.PreviousSpecVersion = 0 })
	out := w.reconcile()
	// The version of the tasks made from the restored spec comes back, so they are up to date again.
	if out.Service == nil || out.Service.SpecVersion != 1 || out.Service.UpdateStatus.State != swarm.UpdateStateRollbackStarted {
		t.Fatalf("service after rollback: %+v", out.Service)
	}
}
