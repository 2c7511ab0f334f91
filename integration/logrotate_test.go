package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// The tests of this file give services the json-file log driver's max-size and max-file options
// (docker service create --log-driver json-file --log-opt ..., and compose's logging section) and
// look at the rotated files and at what docker logs and docker service logs read from them.

// chattyCmd prints line-1, line-2, ... twenty times a second, forever.
var chattyCmd = []string{"sh", "-c", "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.05; done"}

// lineNumbers parses output lines "line-N" (as --raw prints them) into their numbers.
func lineNumbers(t *testing.T, out string) []int {
	t.Helper()
	var ns []int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		n, err := strconv.Atoi(strings.TrimPrefix(l, "line-"))
		if err != nil || !strings.HasPrefix(l, "line-") {
			t.Fatalf("unexpected log line %q in:\n%s", l, out)
		}
		ns = append(ns, n)
	}
	return ns
}

// consecutive reports where ns is not n, n+1, n+2, ... ("" if it is).
func consecutive(ns []int) string {
	for i := 1; i < len(ns); i++ {
		if ns[i] != ns[i-1]+1 {
			return fmt.Sprintf("line-%d follows line-%d", ns[i], ns[i-1])
		}
	}
	return ""
}

// TestServiceLogRotation: a chatty task with max-size=1k and max-file=2 keeps two files of about
// 1 kB, which docker logs (all, tail and follow across rotations) and docker service logs read in
// order; docker inspect shows the LogConfig. A compose file's logging section does the same. An
// unknown option or log driver rejects the task with dockerd's error; the driver none keeps no
// log and docker logs says so.
func TestServiceLogRotation(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	busybox := imgs["busybox:1"]

	d.MustDocker(t, append([]string{"service", "create", "-d", "--name", "chatty", "--log-driver", "json-file",
		"--log-opt", "max-size=1k", "--log-opt", "max-file=2", busybox}, chattyCmd...)...)
	c := waitContainers(t, d, "chatty", 1)[0]

	if got := d.MustDocker(t, "inspect", "--format", "{{json .HostConfig.LogConfig}}", c); got != `{"Type":"json-file","Config":{"max-file":"2","max-size":"1k"}}` {
		t.Errorf("inspect LogConfig: %s", got)
	}
	logPath := filepath.Join(d.DataRoot, "containers", c, c+"-json.log")
	if got := d.MustDocker(t, "inspect", "--format", "{{.LogPath}}", c); got != logPath {
		t.Errorf("inspect LogPath %q, want %q", got, logPath)
	}

	// Wait for the second rotation (line-1 gone), then look at the files a few times while the
	// task goes on writing: never more than two, none much over 1000 bytes (a file may end one
	// entry past max-size; an entry here is under 100 bytes).
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out := d.MustDocker(t, "logs", c)
		return !strings.HasPrefix(out, "line-1\n"), "the log still starts with line-1"
	})
	for range 5 {
		files, err := filepath.Glob(filepath.Join(d.DataRoot, "containers", c, "*-json.log*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 || len(files) > 2 {
			t.Fatalf("log files %v: want 1 or 2", files)
		}
		for _, f := range files {
			if f != logPath && f != logPath+".1" {
				t.Errorf("unexpected log file %s", f)
			}
			fi, err := os.Stat(f)
			if err != nil && !os.IsNotExist(err) { // .1 may be between rename and delete
				t.Fatal(err)
			}
			if err == nil && fi.Size() > 1100 {
				t.Errorf("%s holds %d bytes, more than max-size 1k plus one entry", f, fi.Size())
			}
		}
		time.Sleep(300 * time.Millisecond)
	}

	// docker logs reads both files in order: consecutive lines, the oldest ones rotated away.
	all := lineNumbers(t, d.MustDocker(t, "logs", c))
	if gap := consecutive(all); gap != "" || all[0] == 1 || len(all) < 10 || len(all) > 40 {
		t.Errorf("docker logs: %d lines from line-%d (%s)", len(all), all[0], gap)
	}
	if tail := lineNumbers(t, d.MustDocker(t, "logs", "--tail", "10", c)); len(tail) != 10 || consecutive(tail) != "" || tail[0] < all[0] {
		t.Errorf("docker logs --tail 10: %v", tail)
	}
	var svcTail []int
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out := d.MustDocker(t, "service", "logs", "--raw", "--tail", "5", "chatty")
		svcTail = lineNumbers(t, out)
		return len(svcTail) == 5, out
	})
	if gap := consecutive(svcTail); gap != "" || svcTail[4] < all[len(all)-1] {
		t.Errorf("service logs --tail 5: %v (docker logs ended at line-%d) %s", svcTail, all[len(all)-1], gap)
	}

	// A follower goes on across rotations (a file holds about 14 lines) without losing or
	// repeating a line.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var followed []int
	for l := range d.DockerLines(ctx, t, "logs", "-f", "--tail", "1", c) {
		if followed = append(followed, lineNumbers(t, l)...); len(followed) >= 60 {
			break
		}
	}
	cancel()
	if len(followed) < 60 || consecutive(followed) != "" {
		t.Errorf("docker logs -f: %d lines, %s: %v", len(followed), consecutive(followed), followed)
	}

	// A compose file's logging section reaches the task's container the same way.
	dir := t.TempDir()
	compose := `version: "3.8"
services:
  talk:
    image: ` + busybox + `
    command: ["sh", "-c", "echo from-stack; exec sleep 1000"]
    logging:
      driver: json-file
      options:
        max-size: "10k"
        max-file: "3"
`
	file := filepath.Join(dir, "compose.yml")
	if err := os.WriteFile(file, []byte(compose), 0o600); err != nil {
		t.Fatal(err)
	}
	d.MustDocker(t, "stack", "deploy", "-c", file, "lr")
	sc2 := waitContainers(t, d, "lr_talk", 1)[0]
	if got := d.MustDocker(t, "inspect", "--format", "{{json .HostConfig.LogConfig}}", sc2); got != `{"Type":"json-file","Config":{"max-file":"3","max-size":"10k"}}` {
		t.Errorf("stack task's LogConfig: %s", got)
	}

	// Refused configurations reject the task with dockerd's error.
	d.MustDocker(t, "service", "create", "-d", "--name", "bogus", "--restart-max-attempts", "1",
		"--log-driver", "json-file", "--log-opt", "bogus=1", busybox, "sleep", "1000")
	d.MustDocker(t, "service", "create", "-d", "--name", "jd", "--restart-max-attempts", "1",
		"--log-driver", "journald", busybox, "sleep", "1000")
	// A driver no node has keeps the task pending, as swarmkit's plugin filter does.
	for svc, want := range map[string]string{
		"bogus": "Rejected|unknown log opt 'bogus' for json-file log driver",
		"jd":    "Pending|no suitable node (missing plugin on 1 node)",
	} {
		state, msg, _ := strings.Cut(want, "|")
		harness.Eventually(t, 60*time.Second, func() (bool, string) {
			ps := d.MustDocker(t, "service", "ps", svc, "--no-trunc", "--format", "{{.CurrentState}}|{{.Error}}")
			first := strings.Split(ps, "\n")[0]
			return strings.HasPrefix(first, state) && strings.HasSuffix(first, `|"`+msg+`"`), ps // --no-trunc quotes it
		})
	}

	// The local driver (dockerd's binary format there, json-file here) rotates and reads the same.
	d.MustDocker(t, "service", "create", "-d", "--name", "loc", "--log-driver", "local", "--log-opt", "max-size=1k",
		"--log-opt", "max-file=2", busybox, "sh", "-c", `i=0; while true; do i=$((i+1)); echo "local-$i"; sleep 0.01; done`)
	lc := waitContainers(t, d, "loc", 1)[0]
	if got := d.MustDocker(t, "inspect", "--format", "{{json .HostConfig.LogConfig}}", lc); got != `{"Type":"local","Config":{"max-file":"2","max-size":"1k"}}` {
		t.Errorf("local driver's LogConfig: %s", got)
	}
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		logs, _ := filepath.Glob(filepath.Join(d.DataRoot, "containers", lc, "*.log*"))
		out := d.MustDocker(t, "logs", "--tail", "3", lc)
		return len(logs) == 2 && strings.Count(out, "local-") == 3, fmt.Sprintf("files %v, tail %q", logs, out)
	})

	// The driver none keeps nothing to read.
	d.MustDocker(t, "service", "create", "-d", "--name", "quiet", "--log-driver", "none", busybox, "sh", "-c", "echo unseen; exec sleep 1000")
	q := waitContainers(t, d, "quiet", 1)[0]
	if got := d.MustDocker(t, "inspect", "--format", "{{json .HostConfig.LogConfig}}|{{.LogPath}}|", q); got != `{"Type":"none","Config":{}}||` {
		t.Errorf("inspect of a none container: %q", got)
	}
	if _, stderr, code := d.Docker(t, "logs", q); code == 0 || !strings.Contains(stderr, "configured logging driver does not support reading") {
		t.Errorf("docker logs of a none container: exit %d, %q", code, stderr)
	}
	if out, stderr, code := d.Docker(t, "service", "logs", "quiet"); code != 0 || out != "" {
		t.Errorf("service logs of a none service: exit %d, %q %q (dockerd: nothing, exit 0)", code, out, stderr)
	}
	if logs, _ := filepath.Glob(filepath.Join(d.DataRoot, "containers", q, "*.log*")); len(logs) != 0 {
		t.Errorf("driver none wrote %v", logs)
	}
}
