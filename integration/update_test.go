package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestRollingUpdateProgress: `docker service update` and `rollback` without -d draw Docker's progress
// display; a failing update pauses (or rolls back) with Docker's messages.
func TestRollingUpdateProgress(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	d.MustDocker(t, "service", "create", "-d", "--name", "web", "--replicas", "2", "--update-monitor", "1s", imgs["sleeper:1"])
	waitRunning(t, d, "web", 2)

	// a good update: every slot replaced, then converged
	out, stderr, code := d.Docker(t, "service", "update", "--image", imgs["sleeper:latest"], "--update-parallelism", "1", "--update-delay", "1s", "web")
	if code != 0 || !strings.Contains(out, "overall progress: 2 out of 2 tasks") || !strings.Contains(out, "converged") {
		t.Fatalf("update: exit %d\n%s\n%s", code, out, stderr)
	}
	harness.Eventually(t, 30*time.Second, func() (bool, string) { // after the last task's monitor period
		st := d.MustDocker(t, "service", "inspect", "web", "--format", "{{.UpdateStatus.State}} {{.UpdateStatus.Message}}")
		return st == "completed update completed", st
	})

	// a failing update with failure action pause: the CLI stops with Docker's message
	out, stderr, code = d.Docker(t, "service", "update", "--image", imgs["exitcode:1"], "--args", "3",
		"--update-failure-action", "pause", "--update-parallelism", "1", "web")
	if code == 0 || !strings.Contains(out+stderr, "update paused") {
		t.Fatalf("failing update: exit %d\n%s\n%s", code, out, stderr)
	}
	if st := d.MustDocker(t, "service", "inspect", "web", "--format", "{{.UpdateStatus.State}}"); st != "paused" {
		t.Errorf("after a failed update: %q, want paused", st)
	}
	ps := d.MustDocker(t, "service", "ps", "--no-trunc", "web", "--format", "{{.Error}}")
	if !strings.Contains(ps, "task: non-zero exit (3)") {
		t.Errorf("service ps does not show the failure:\n%s", ps)
	}

	// a manual rollback restores the previous spec, with Docker's rollback display
	out, stderr, code = d.Docker(t, "service", "rollback", "web")
	if code != 0 || !strings.Contains(out, "rollback: manually requested rollback") || !strings.Contains(out, "converged") {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, stderr)
	}
	if img := d.MustDocker(t, "service", "inspect", "web", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"); !strings.HasPrefix(img, imgs["sleeper:latest"]) {
		t.Errorf("image after rollback %q", img)
	}
	waitRunning(t, d, "web", 2)

	// failure action rollback: the orchestrator rolls back by itself. The first new task fails
	// before the delay lets a second slot start, so the rollback has nothing to revert and ends at
	// once: the CLI prints both of Docker's rollback lines.
	out, stderr, code = d.Docker(t, "service", "update", "--image", imgs["exitcode:1"], "--args", "4",
		"--update-failure-action", "rollback", "--update-parallelism", "1", "--update-delay", "2s", "web")
	if code != 0 || !strings.Contains(out, "rollback: update rolled back due to failure or early termination of task") ||
		!strings.Contains(out, "rollback: rollback completed") {
		t.Errorf("update rolled back: exit %d\n%s\n%s", code, out, stderr)
	}
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		st := d.MustDocker(t, "service", "inspect", "web", "--format", "{{.UpdateStatus.State}}|{{.UpdateStatus.Message}}")
		return strings.HasPrefix(st, "rollback_completed|"), st
	})
	waitRunning(t, d, "web", 2)
}
