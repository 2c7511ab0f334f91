package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestContainerCallsWaitStart: docker wait on a job's task container gives its exit code, and
// docker start runs the stopped container again.
func TestContainerCallsWaitStart(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	d.MustDocker(t, "service", "create", "--detach", "--name", "w", "--mode", "replicated-job",
		"--restart-condition", "none", imgs["busybox:1"], "sh", "-c", "sleep 2; exit 7")
	var id string
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ids := serviceContainers(t, d, "w", true)
		if len(ids) == 1 {
			id = ids[0]
		}
		return len(ids) == 1, strings.Join(ids, ",")
	})
	if got := d.MustDocker(t, "wait", id); got != "7" {
		t.Fatalf("docker wait: %q", got)
	}
	// not running any more: wait answers at once
	if got := d.MustDocker(t, "wait", id); got != "7" {
		t.Errorf("docker wait of an exited container: %q", got)
	}
	if got := d.MustDocker(t, "start", id); got != id {
		t.Errorf("docker start: %q", got)
	}
	if got := d.MustDocker(t, "inspect", "--format", "{{.State.Status}}", id); got != "running" {
		t.Errorf("after start: %q", got)
	}
	if got := d.MustDocker(t, "wait", id); got != "7" {
		t.Errorf("docker wait after start: %q", got)
	}
	if _, stderr, code := d.Docker(t, "wait", "nosuchctr"); code == 0 || !strings.Contains(stderr, "No such container: nosuchctr") {
		t.Errorf("wait of a missing container: %d %s", code, stderr)
	}
}

// TestContainerCallsPauseInspect: docker pause/unpause of a running task container, as ps and
// inspect show it, dockerd's errors, and docker inspect -s.
func TestContainerCallsPauseInspect(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	d.MustDocker(t, "service", "create", "--detach", "--name", "p", imgs["busybox:1"], "sleep", "1000")
	id := waitContainers(t, d, "p", 1)[0]

	if got := d.MustDocker(t, "start", id); got != id { // 304: already running
		t.Errorf("docker start of a running container: %q", got)
	}
	d.MustDocker(t, "pause", id)
	if got := d.MustDocker(t, "inspect", "--format", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", id); got != "paused true true" {
		t.Errorf("inspect paused: %q", got)
	}
	if got := d.MustDocker(t, "ps", "--filter", "id="+id, "--format", "{{.Status}}"); !strings.HasSuffix(got, "(Paused)") {
		t.Errorf("ps paused: %q", got)
	}
	if _, stderr, code := d.Docker(t, "pause", id); code == 0 || !strings.Contains(stderr, "Container "+id+" is already paused") {
		t.Errorf("pause twice: %d %s", code, stderr)
	}
	if _, stderr, code := d.Docker(t, "start", id); code == 0 || !strings.Contains(stderr, "cannot start a paused container, try unpause instead") {
		t.Errorf("start paused: %d %s", code, stderr)
	}
	d.MustDocker(t, "unpause", id)
	if got := d.MustDocker(t, "inspect", "--format", "{{.State.Status}} {{.State.Paused}}", id); got != "running false" {
		t.Errorf("inspect unpaused: %q", got)
	}
	if _, stderr, code := d.Docker(t, "unpause", id); code == 0 || !strings.Contains(stderr, "Container "+id+" is not paused") {
		t.Errorf("unpause twice: %d %s", code, stderr)
	}

	// docker inspect -s: a 5000-byte file in the writable layer
	d.MustDocker(t, "exec", id, "sh", "-c", "head -c 5000 /dev/zero > /big")
	got := strings.Fields(d.MustDocker(t, "inspect", "-s", "--format", "{{.SizeRw}} {{.SizeRootFs}}", id))
	if len(got) != 2 {
		t.Fatalf("inspect -s: %v", got)
	}
	rw, _ := strconv.ParseInt(got[0], 10, 64)
	root, _ := strconv.ParseInt(got[1], 10, 64)
	if rw < 5000 || root <= rw {
		t.Errorf("inspect -s: SizeRw %d SizeRootFs %d", rw, root)
	}
	if got := d.MustDocker(t, "inspect", "--format", "{{.SizeRw}}", id); got != "<nil>" {
		t.Errorf("inspect without -s shows SizeRw %q", got)
	}
}
