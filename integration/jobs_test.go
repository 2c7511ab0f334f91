package integration

import (
	"strings"
	"testing"
)

// TestJobs: replicated and global jobs run to completion, with the CLI's job progress display.
func TestJobs(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	out, stderr, code := d.Docker(t, "service", "create", "--name", "batch", "--mode", "replicated-job",
		"--replicas", "3", "--max-concurrent", "2", imgs["busybox:1"], "true")
	if code != 0 || !strings.Contains(out, "job complete") {
		t.Fatalf("replicated job: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := d.MustDocker(t, "service", "ls", "--filter", "name=batch", "--format", "{{.Mode}} {{.Replicas}}"); got != "replicated job 0/2 (3/3 completed)" {
		t.Errorf("service ls of the job: %q", got)
	}
	ps := d.MustDocker(t, "service", "ps", "batch", "--format", "{{.DesiredState}} {{.CurrentState}}")
	if n := strings.Count(ps, "Complete Complete"); n != 3 {
		t.Errorf("job tasks:\n%s", ps)
	}
	// A forced update runs the job again; the finished tasks of the first run stay in the history.
	out, stderr, code = d.Docker(t, "service", "update", "--force", "batch")
	if code != 0 || !strings.Contains(out, "job complete") {
		t.Fatalf("job rerun: exit %d\n%s\n%s", code, out, stderr)
	}
	ps = d.MustDocker(t, "service", "ps", "batch", "--format", "{{.DesiredState}} {{.CurrentState}}")
	if n := strings.Count(ps, "Complete Complete"); n != 6 {
		t.Errorf("job tasks after a rerun:\n%s", ps)
	}
	if got := d.MustDocker(t, "service", "ls", "--filter", "name=batch", "--format", "{{.Replicas}}"); got != "0/2 (3/3 completed)" {
		t.Errorf("service ls of the rerun job: %q", got)
	}
	out, stderr, code = d.Docker(t, "service", "create", "--name", "everywhere", "--mode", "global-job", imgs["busybox:1"], "true")
	if code != 0 || !strings.Contains(out, "job complete") {
		t.Fatalf("global job: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := d.MustDocker(t, "service", "ls", "--filter", "name=everywhere", "--format", "{{.Replicas}}"); got != "0/0 (1/1 completed)" {
		t.Errorf("service ls of the global job: %q", got)
	}
}
