package integration

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// The tests of this file check task containers against what dockerd does for the same commands:
// exec's errors, stop and kill of a paused container, restart's event, /.dockerenv and the
// mounts inspect lists.

// gapEvents waits until container id's events since `since` end with the actions want, in order.
func gapEvents(t *testing.T, d *harness.Daemon, since, id string, want ...string) {
	t.Helper()
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		// --until must be in the past for the stream to end
		end := time.Now().Add(time.Second)
		time.Sleep(time.Until(end.Truncate(time.Second).Add(100 * time.Millisecond)))
		out := d.MustDocker(t, "events", "--since", since, "--until", strconv.FormatInt(end.Unix(), 10),
			"--filter", "type=container", "--format", "{{json .}}")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			var ev containerEvent
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("event %q: %v", line, err)
			}
			if ev.Actor.ID == id {
				got = append(got, ev.Action)
			}
		}
		// --since has whole seconds: earlier events of the container may come first
		return strings.HasSuffix("|"+strings.Join(got, "|"), "|"+strings.Join(want, "|")), fmt.Sprintf("actions %q, want them to end with %q", got, want)
	})
}

// TestRuntimeGapsExec: docker exec's failures print dockerd's texts with its exit codes, and
// --privileged asks for every capability.
func TestRuntimeGapsExec(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	d.MustDocker(t, "service", "create", "--detach", "--name", "gx", imgs["busybox:1"], "sleep", "1000")
	id := waitContainers(t, d, "gx", 1)[0]

	const oci = "OCI runtime exec failed: exec failed: unable to start container process: "
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{id, "nosuchcmd"}, 127, oci + `exec: "nosuchcmd": executable file not found in $PATH: unknown`},
		{[]string{id, "/nosuch/path"}, 127, oci + `exec: "/nosuch/path": stat /nosuch/path: no such file or directory: unknown`},
		{[]string{id, "/etc/passwd"}, 126, oci + `exec: "/etc/passwd": permission denied: unknown`},
		{[]string{"-w", "/nonexist", id, "pwd"}, 127, oci + `chdir to cwd ("/nonexist") set in config.json failed: no such file or directory: unknown`},
		{[]string{"-w", "relative", id, "pwd"}, 128, "OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown"},
		{[]string{"-u", "nosuchuser", id, "id"}, 1, "Error response from daemon: unable to find user nosuchuser: no matching entries in passwd file"},
		{[]string{"-u", "nobody:nosuchgrp", id, "id"}, 1, "Error response from daemon: unable to find group nosuchgrp: no matching entries in group file"},
		{[]string{"--detach-keys", "bogus", id, "true"}, 1, "Error response from daemon: Invalid escape keys (bogus) provided"},
	}
	for _, tt := range tests {
		// as with dockerd, a failed start comes on the exec's stream (stdout), a failed create as
		// the CLI's error
		stdout, stderr, code := d.Docker(t, append([]string{"exec"}, tt.args...)...)
		if code != tt.code || strings.TrimSpace(stdout+stderr) != tt.want {
			t.Errorf("docker exec %v: rc %d output %q, want rc %d %q", tt.args, code, stdout+stderr, tt.code, tt.want)
		}
	}

	// --privileged: every capability, or runc's refusal where the daemon lacks some, never the
	// container's own set
	stdout, stderr, code := d.Docker(t, "exec", "--privileged", id, "sh", "-c", "grep CapEff /proc/self/status")
	plain := d.MustDocker(t, "exec", id, "sh", "-c", "grep CapEff /proc/self/status")
	switch {
	case code == 0 && strings.TrimSpace(stdout) == plain:
		t.Errorf("exec --privileged has the container's capabilities: %q", stdout)
	case code != 0 && !strings.Contains(stdout+stderr, oci+"unable to apply caps: "):
		t.Errorf("exec --privileged: rc %d %q", code, stderr)
	}
}

// TestRuntimeGapsPausedStop: docker stop and docker kill of a paused task container thaw it after
// the signal, as dockerd, so it exits at once with the events kill, unpause, die (and stop).
func TestRuntimeGapsPausedStop(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	d.MustDocker(t, "service", "create", "--detach", "--name", "gp", "--replicas", "2", "--stop-grace-period", "60s",
		"--restart-condition", "none", imgs["busybox:1"], "sh", "-c", `trap "exit 3" TERM; while true; do sleep 0.1; done`)
	ids := waitContainers(t, d, "gp", 2)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)

	d.MustDocker(t, "pause", ids[0])
	start := time.Now()
	d.MustDocker(t, "stop", ids[0])
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("docker stop of a paused container took %v", took)
	}
	if got := d.MustDocker(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}", ids[0]); got != "exited false 3" {
		t.Errorf("after stop: %q", got)
	}
	gapEvents(t, d, since, ids[0], "pause", "kill", "unpause", "die", "stop")

	d.MustDocker(t, "pause", ids[1])
	d.MustDocker(t, "kill", ids[1])
	if got := d.MustDocker(t, "inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}", ids[1]); got != "exited false 137" {
		t.Errorf("after kill: %q", got)
	}
}

// TestRuntimeGapsRestartDockerenvMounts: docker restart logs "restart" after the start; every
// container has /.dockerenv; inspect lists neither secrets nor configs among the mounts, which
// the container still has.
func TestRuntimeGapsRestartDockerenvMounts(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	for _, args := range [][]string{{"s3cret", "secret", "create", "gs", "-"}, {"conf", "config", "create", "gc", "-"}} {
		if _, stderr, code := d.DockerStdin(t, args[0], args[1:]...); code != 0 {
			t.Fatalf("docker %v: %s", args[1:], stderr)
		}
	}
	d.MustDocker(t, "service", "create", "--detach", "--name", "gr", "--secret", "gs", "--config", "src=gc,target=/etc/gc.conf",
		"--mount", "type=tmpfs,target=/scratch", imgs["busybox:1"], "sleep", "1000")
	id := waitContainers(t, d, "gr", 1)[0]

	if got := d.MustDocker(t, "exec", id, "stat", "-c", "%s %a %u", "/.dockerenv"); got != "0 755 0" {
		t.Errorf("/.dockerenv: %q", got)
	}
	if got := d.MustDocker(t, "exec", id, "cat", "/run/secrets/gs", "/etc/gc.conf"); got != "s3cretconf" {
		t.Errorf("secret and config files: %q", got)
	}
	if got := d.MustDocker(t, "inspect", "-f", "{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}|{{range .HostConfig.Mounts}}{{.Type}}:{{.Target}} {{end}}", id); got != "tmpfs:/scratch |tmpfs:/scratch" {
		t.Errorf("Mounts | HostConfig.Mounts: %q", got)
	}

	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	d.MustDocker(t, "restart", "-t", "1", id)
	gapEvents(t, d, since, id, "kill", "kill", "die", "stop", "start", "restart")
}
