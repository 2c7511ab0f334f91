package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/shoal-project/shoal/integration/harness"
)

// The tests of this file run swarm tasks as real containers and look at them through the
// container commands of the stock CLI (ps, inspect, top, logs, stats, exec, kill, rm) and the
// service commands (create with its progress display, ps, logs, update).

// runtimeSwarm starts a daemon, a registry with the standard images and a one-node swarm, and
// removes the services and containers before the daemon stops (so that no container, mount or
// cgroup outlives the test).
func runtimeSwarm(t *testing.T) (*harness.Daemon, harness.Images) {
	t.Helper()
	d := harness.StartDaemon(t, harness.Options{})
	reg := harness.StartRegistry(t)
	imgs := harness.PushImages(t, reg)
	swarmInit(t, d)
	return d, imgs
}

// swarmInit makes d a one-node swarm listening on a free loopback port (so that tests running at
// the same time do not fight over 2377), and removes its containers before the daemon stops.
func swarmInit(t *testing.T, d *harness.Daemon) {
	t.Helper()
	addr := harness.FreeLoopbackAddr(t)
	d.MustDocker(t, "swarm", "init", "--advertise-addr", addr, "--listen-addr", addr)
	t.Cleanup(func() { removeAllContainers(t, d) })
}

// removeAllContainers removes every service, waits for their containers to go, and force-removes
// what is left; then it removes the cgroups the containers left, if any.
func removeAllContainers(t *testing.T, d *harness.Daemon) {
	t.Helper()
	if !d.Running() {
		return
	}
	all, _, _ := d.Docker(t, "ps", "-aq", "--no-trunc")
	seen := strings.Fields(all)
	if svcs, _, code := d.Docker(t, "service", "ls", "-q"); code == 0 && strings.TrimSpace(svcs) != "" {
		d.Docker(t, append([]string{"service", "rm"}, strings.Fields(svcs)...)...)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, _, _ := d.Docker(t, "ps", "-aq")
		if strings.TrimSpace(out) == "" {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if out, _, _ := d.Docker(t, "ps", "-aq"); strings.TrimSpace(out) != "" {
		d.Docker(t, append([]string{"rm", "-f"}, strings.Fields(out)...)...)
	}
	for _, id := range seen {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/shoal/" + id)
		dirs2, _ := filepath.Glob("/sys/fs/cgroup/shoal/" + id)
		for _, dir := range append(dirs, dirs2...) {
			_ = os.Remove(dir)
		}
	}
}

// serviceContainers lists the full IDs of a service's containers (running ones unless all).
func serviceContainers(t *testing.T, d *harness.Daemon, svc string, all bool) []string {
	t.Helper()
	args := []string{"ps", "-q", "--no-trunc", "--filter", "label=com.docker.swarm.service.name=" + svc}
	if all {
		args = append(args, "-a")
	}
	return strings.Fields(d.MustDocker(t, args...))
}

// waitContainers waits until a service has n running containers and returns their IDs.
func waitContainers(t *testing.T, d *harness.Daemon, svc string, n int) []string {
	t.Helper()
	var ids []string
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ids = serviceContainers(t, d, svc, false)
		return len(ids) == n, fmt.Sprintf("%d running containers: %v", len(ids), ids)
	})
	return ids
}

// TestServiceTasksAsContainers: a 3-replica service converges under the progress display, its
// containers show in ps, inspect, top, logs and stats, and take execs.
func TestServiceTasksAsContainers(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	busybox := imgs["busybox:1"]

	out := d.MustDocker(t, "service", "create", "--name", "web", "--replicas", "3", "--init",
		busybox, "sh", "-c", "echo hello from $(hostname); exec sleep 1000")
	if !strings.Contains(out, "overall progress: 3 out of 3 tasks") || !regexp.MustCompile(`verify: Service \S+ converged`).MatchString(out) {
		t.Fatalf("service create progress did not converge:\n%s", out)
	}
	ids := waitContainers(t, d, "web", 3)

	// docker ps
	ps := d.MustDocker(t, "ps", "--format", "{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}")
	lines := strings.Split(ps, "\n")
	nameRe := regexp.MustCompile(`^web\.[123]\.[a-z0-9]{25}\|` + regexp.QuoteMeta(busybox) + `(@sha256:[0-9a-f]{64})?\|"sh -c 'echo hello f…"\|Up `)
	if len(lines) != 3 {
		t.Fatalf("docker ps shows %d containers:\n%s", len(lines), ps)
	}
	for _, l := range lines {
		if !nameRe.MatchString(l) {
			t.Errorf("docker ps line %q does not match %s", l, nameRe)
		}
	}

	// docker inspect: swarm labels, state, image, name
	c := ids[0]
	info := d.MustDocker(t, "inspect", "--format",
		`{{.Name}}|{{index .Config.Labels "com.docker.swarm.service.name"}}|{{index .Config.Labels "com.docker.swarm.task.id"}}|{{.State.Status}} {{.State.Running}}|{{.Image}}|{{.HostConfig.LogConfig.Type}}|{{.Driver}}|{{json .Path}} {{json .Args}}`, c)
	f := strings.Split(info, "|")
	if len(f) != 8 || !strings.HasPrefix(f[0], "/web.") || f[1] != "web" || !strings.HasSuffix(f[0], "."+f[2]) ||
		f[3] != "running true" || !strings.HasPrefix(f[4], "sha256:") || f[5] != "json-file" || f[6] != "overlay2" ||
		f[7] != `"sh" ["-c","echo hello from $(hostname); exec sleep 1000"]` {
		t.Errorf("docker inspect: %q", info)
	}
	taskID := f[2]
	if got := d.MustDocker(t, "inspect", "--format", "{{.Status.ContainerStatus.ContainerID}}", taskID); got != c {
		t.Errorf("task %s reports container %q, want %s", taskID, got, c)
	}
	// lookups by name, name with a slash and ID prefix
	for _, ref := range []string{strings.TrimPrefix(f[0], "/"), f[0], c[:12]} {
		if got := d.MustDocker(t, "container", "inspect", "--format", "{{.Id}}", ref); got != c {
			t.Errorf("inspect %s: %q", ref, got)
		}
	}
	_, stderr, code := d.Docker(t, "container", "inspect", "nope")
	wantFail(t, "inspect of a missing container", stderr, code, "No such container: nope")

	// docker top and logs
	if top := d.MustDocker(t, "top", c); !strings.Contains(top, "sleep 1000") || !strings.Contains(top, "PID") {
		t.Errorf("docker top:\n%s", top)
	}
	if logs := d.MustDocker(t, "logs", c); logs != "hello from "+c[:12] {
		t.Errorf("docker logs: %q", logs)
	}
	if logs := d.MustDocker(t, "logs", "--timestamps", "--tail", "1", c); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello from `).MatchString(logs) {
		t.Errorf("docker logs --timestamps: %q", logs)
	}

	// docker stats --no-stream
	stats := d.MustDocker(t, "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}")
	if n := strings.Count(stats, "web."); n != 3 {
		t.Errorf("docker stats shows %d task containers:\n%s", n, stats)
	}

	// docker exec: plain, with a terminal, with stdin, exit codes
	if got := d.MustDocker(t, "exec", c, "echo", "hi"); got != "hi" {
		t.Errorf("exec echo: %q", got)
	}
	if got := d.MustDocker(t, "exec", "-t", c, "sh", "-c", "tty"); !regexp.MustCompile(`^/dev/pts/\d+$`).MatchString(got) {
		t.Errorf("exec -t tty: %q", got)
	}
	if got, _, code := d.Docker(t, "exec", c, "sh", "-c", "tty"); code != 1 || strings.TrimSpace(got) != "not a tty" {
		t.Errorf("exec without -t: tty printed %q, exit %d", got, code)
	}
	if out, stderr, code := d.DockerStdin(t, "hi\n", "exec", "-i", c, "cat"); code != 0 || out != "hi\n" {
		t.Errorf("echo hi | docker exec -i cat: %q %q exit %d", out, stderr, code)
	}
	// docker exec -it needs a terminal on the CLI's side: script(1) gives it one.
	if script, err := exec.LookPath("script"); err == nil {
		cmd := exec.Command(script, "-qec", harness.DockerCLI+" exec -it "+c+" sh -c 'read x; echo got $x; tty; exit 7'", "/dev/null")
		cmd.Env = d.Env()
		cmd.Stdin = strings.NewReader("hello\n")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 || !regexp.MustCompile(`got hello\r\n/dev/pts/\d+\r\n`).Match(out) {
			t.Errorf("docker exec -it: %q, %v", out, err)
		}
	}
	if _, _, code := d.Docker(t, "exec", c, "sh", "-c", "exit 3"); code != 3 {
		t.Errorf("exec exit 3: exit code %d", code)
	}
	if out, _, _ := d.Docker(t, "exec", "-e", "GREETING=hey", "-w", "/tmp", c, "sh", "-c", "echo $GREETING $(pwd)"); strings.TrimSpace(out) != "hey /tmp" {
		t.Errorf("exec with env and workdir: %q", out)
	}

	// the image of running tasks cannot be removed
	_, stderr, code = d.Docker(t, "rmi", "-f", strings.TrimPrefix(f[4], "sha256:")[:12])
	wantFail(t, "rmi of an image in use", stderr, code, "image is being used by running container")
	// a running container is removed only with force
	name := strings.TrimPrefix(f[0], "/")
	_, stderr, code = d.Docker(t, "rm", name)
	wantFail(t, "rm of a running container", stderr, code,
		fmt.Sprintf(`cannot remove container %q: container is running: stop the container before removing or force remove`, name))

	// Go SDK: list with filters, inspect
	cli := d.Client(t)
	ctx := context.Background()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", "web."), filters.Arg("label", "com.docker.swarm.service.name=web"))})
	if err != nil || len(list) != 3 {
		t.Fatalf("SDK ContainerList: %d containers, %v", len(list), err)
	}
	if list[0].State != container.StateRunning || list[0].Labels["com.docker.swarm.task"] != "" || len(list[0].Names) != 1 {
		t.Errorf("SDK ContainerList[0]: %+v", list[0])
	}
	if got, err := cli.ContainerList(ctx, container.ListOptions{Limit: 1}); err != nil || len(got) != 1 {
		t.Errorf("SDK ContainerList limit 1: %d, %v", len(got), err)
	}
	if _, err := cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("status", "nope"))}); err == nil ||
		!strings.Contains(err.Error(), "invalid filter 'status=nope'") {
		t.Errorf("SDK ContainerList with a bad status: %v", err)
	}
	// streamed stats: one object a second, each with the previous sample's CPU
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := cli.ContainerStats(sctx, c, true)
	if err != nil {
		t.Fatalf("SDK ContainerStats: %v", err)
	}
	dec := json.NewDecoder(st.Body)
	var s1, s2 container.StatsResponse
	if err := dec.Decode(&s1); err != nil {
		t.Fatalf("first stats object: %v", err)
	}
	if err := dec.Decode(&s2); err != nil {
		t.Fatalf("second stats object: %v", err)
	}
	st.Body.Close()
	if s2.ID != c || s2.PreCPUStats.CPUUsage.TotalUsage != s1.CPUStats.CPUUsage.TotalUsage || s2.CPUStats.CPUUsage.TotalUsage == 0 ||
		!s2.Read.After(s1.Read) || s2.PidsStats.Current == 0 {
		t.Errorf("streamed stats: first %+v\nsecond %+v", s1, s2)
	}
	// exec through the SDK: create, attach, inspect
	ex, err := cli.ContainerExecCreate(ctx, c, container.ExecOptions{Cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 5"}, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatalf("SDK ExecCreate: %v", err)
	}
	hj, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("SDK ExecAttach: %v", err)
	}
	var stdout, stderrBuf strings.Builder
	_, err = stdcopy.StdCopy(&stdout, &stderrBuf, hj.Reader)
	hj.Close()
	if err != nil || stdout.String() != "out\n" || stderrBuf.String() != "err\n" {
		t.Errorf("SDK exec output %q %q: %v", stdout.String(), stderrBuf.String(), err)
	}
	if ins, err := cli.ContainerExecInspect(ctx, ex.ID); err != nil || ins.Running || ins.ExitCode != 5 || ins.ContainerID != c || ins.Pid == 0 {
		t.Errorf("SDK ExecInspect: %+v, %v", ins, err)
	}
	_, stderr, code = d.Docker(t, "kill", "--signal", "NOPE", c)
	wantFail(t, "kill with a bad signal", stderr, code, "Invalid signal: NOPE")
}

// TestServiceLogsAndTaskFailure: service logs show every task's lines, follow picks up a
// replacement, and a killed container fails its task (exit 137) and is replaced.
func TestServiceLogsAndTaskFailure(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	d.MustDocker(t, "service", "create", "-d", "--name", "web", "--replicas", "3", "--init", imgs["busybox:1"],
		"sh", "-c", "echo hello from $(hostname); exec sleep 1000")
	ids := waitContainers(t, d, "web", 3)

	// Each task's line, named web.<slot>.<task>@<node host>.
	lineRe := regexp.MustCompile(`^web\.([123])\.([a-z0-9]{12})@\S+\s+\| hello from ([0-9a-f]{12})$`)
	var logs string
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		logs = d.MustDocker(t, "service", "logs", "web")
		return strings.Count(logs, "hello from") == 3, logs
	})
	slots := map[string]bool{}
	for _, l := range strings.Split(logs, "\n") {
		m := lineRe.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("service logs line %q does not match %s", l, lineRe)
			continue
		}
		slots[m[1]] = true
	}
	if len(slots) != 3 {
		t.Errorf("service logs come from slots %v, want 1, 2 and 3:\n%s", slots, logs)
	}
	if got := d.MustDocker(t, "service", "logs", "--tail", "1", "--raw", "web"); strings.Count(got, "hello from") != 3 {
		t.Errorf("service logs --tail 1 (one per task):\n%s", got)
	}
	taskID := d.MustDocker(t, "inspect", "--format", `{{index .Config.Labels "com.docker.swarm.task.id"}}`, ids[0])
	if got := d.MustDocker(t, "service", "logs", "--no-task-ids", taskID); !strings.Contains(got, "| hello from "+ids[0][:12]) || strings.Count(got, "\n") != 0 {
		t.Errorf("service logs of task %s: %q", taskID, got)
	}

	// Follow the service's logs while one task's container is killed.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	followed := d.DockerLines(ctx, t, "service", "logs", "-f", "--raw", "web")
	for i := 0; i < 3; i++ {
		select {
		case <-followed:
		case <-time.After(30 * time.Second):
			t.Fatal("service logs -f: no initial lines")
		}
	}

	d.MustDocker(t, "kill", ids[0])
	// As with Docker, the replacement is prepared at once and waits out its restart delay (5 s)
	// at Ready.
	harness.Eventually(t, 20*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "web", "--format", "{{.DesiredState}} {{.CurrentState}}")
		return strings.Contains(ps, "Ready Ready "), ps
	})
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "web", "--no-trunc", "--format", "{{.ID}} {{.DesiredState}} {{.CurrentState}} {{.Error}}")
		return strings.Contains(ps, taskID+" Shutdown Failed") && strings.Contains(ps, "task: non-zero exit (137)") &&
			strings.Count(ps, "Running Running") == 3, ps
	})
	_, stderr, code := d.Docker(t, "kill", ids[0])
	wantFail(t, "kill of a stopped container", stderr, code, fmt.Sprintf("cannot kill container: %s: container %s is not running", ids[0], ids[0]))
	if got := d.MustDocker(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", ids[0]); got != "exited 137" {
		t.Errorf("killed container: %q", got)
	}
	if st := d.MustDocker(t, "ps", "-a", "--filter", "id="+ids[0], "--format", "{{.Status}}"); !strings.HasPrefix(st, "Exited (137) ") {
		t.Errorf("docker ps -a status of the killed container: %q", st)
	}
	// docker rm of the stopped container; then it is gone from ps -a
	d.MustDocker(t, "rm", ids[0])
	if got := d.MustDocker(t, "ps", "-aq", "--filter", "id="+ids[0]); got != "" {
		t.Errorf("removed container still listed: %q", got)
	}
	newIDs := waitContainers(t, d, "web", 3)
	var replacement string
	for _, id := range newIDs {
		if id != ids[0] && id != ids[1] && id != ids[2] {
			replacement = id
		}
	}
	if replacement == "" {
		t.Fatalf("no replacement container: %v (was %v)", newIDs, ids)
	}
	want := "hello from " + replacement[:12]
	deadline := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-followed:
			if !ok {
				t.Fatal("service logs -f ended")
			}
			done = strings.Contains(l, want)
		case <-deadline:
			t.Fatalf("service logs -f did not show %q", want)
		}
	}

	// docker stop of a task container: its stop signal ends it (143 through the init), a second
	// stop changes nothing and succeeds, and the task fails.
	stopped := ids[1]
	if out := d.MustDocker(t, "stop", stopped); out != stopped {
		t.Errorf("docker stop printed %q", out)
	}
	if out := d.MustDocker(t, "stop", stopped); out != stopped {
		t.Errorf("second docker stop printed %q", out)
	}
	if got := d.MustDocker(t, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", stopped); got != "exited 143" {
		t.Errorf("stopped container: %q", got)
	}
}

// TestServiceResourceLimits: --limit-memory reaches the container's cgroup, and a process that
// goes beyond it is OOM-killed, failing its task.
func TestServiceResourceLimits(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	busybox := imgs["busybox:1"]
	d.MustDocker(t, "service", "create", "-d", "--name", "mem", "--init", busybox, "sleep", "1000")
	first := waitContainers(t, d, "mem", 1)[0]
	d.MustDocker(t, "service", "update", "-d", "--limit-memory", "64M", "--limit-cpu", "0.5", "mem")
	var id string
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ids := serviceContainers(t, d, "mem", false)
		if len(ids) != 1 || ids[0] == first {
			return false, fmt.Sprintf("containers %v", ids)
		}
		id = ids[0]
		return true, ""
	})
	if got := d.MustDocker(t, "inspect", "--format", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}", id); got != "67108864 500000000" {
		t.Errorf("inspect HostConfig memory and CPUs: %q", got)
	}
	if got := strings.TrimSpace(readMemoryLimit(t, id)); got != "67108864" {
		t.Errorf("cgroup memory limit of %s: %q, want 67108864", id, got)
	}

	d.MustDocker(t, "service", "create", "-d", "--name", "hog", "--limit-memory", "32M", "--restart-condition", "none",
		busybox, "sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' x); echo survived")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "hog", "--no-trunc", "--format", "{{.CurrentState}} {{.Error}}")
		return strings.HasPrefix(ps, "Failed") && strings.Contains(ps, "task: non-zero exit (137)"), ps
	})
	hog := serviceContainers(t, d, "hog", true)
	if len(hog) != 1 {
		t.Fatalf("hog containers: %v", hog)
	}
	if got := d.MustDocker(t, "inspect", "--format", "{{.State.OOMKilled}} {{.State.ExitCode}}", hog[0]); got != "true 137" {
		t.Errorf("OOM-killed container state: %q", got)
	}
}

// readMemoryLimit reads the memory limit of a container's cgroup (v1 or v2) under "shoal".
func readMemoryLimit(t *testing.T, id string) string {
	t.Helper()
	for _, p := range []string{"/sys/fs/cgroup/memory/shoal/" + id + "/memory.limit_in_bytes", "/sys/fs/cgroup/shoal/" + id + "/memory.max"} {
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
	}
	t.Fatalf("no memory cgroup for container %s", id)
	return ""
}

// TestServiceImageProblems: a missing image rejects the task with the registry's error; an image
// from docker load runs with no registry at all.
func TestServiceImageProblems(t *testing.T) {
	archive := harness.WriteImageArchive(t, "busybox:1")
	d := harness.StartDaemon(t, harness.Options{})
	reg := harness.StartRegistry(t) // empty: nothing pushed
	swarmInit(t, d)

	d.MustDocker(t, "service", "create", "-d", "--name", "ghost", "--restart-max-attempts", "1", reg.Ref("nope:1"))
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "ghost", "--no-trunc", "--format", "{{.CurrentState}}|{{.Error}}")
		return strings.HasPrefix(ps, "Rejected") && strings.Contains(ps, "manifest unknown"), ps
	})

	if out := d.MustDocker(t, "load", "-i", archive); !strings.Contains(out, "Loaded image: busybox:1") {
		t.Fatalf("docker load: %q", out)
	}
	d.MustDocker(t, "service", "create", "-d", "--name", "local", "busybox:1", "sleep", "1000")
	waitRunning(t, d, "local", 1)
	c := waitContainers(t, d, "local", 1)[0]
	if got := d.MustDocker(t, "ps", "--format", "{{.Image}}", "--filter", "id="+c); got != "busybox:1" {
		t.Errorf("docker ps image of the loaded image's task: %q", got)
	}
}

// TestServiceHealthChecks: a task whose health check fails never runs and its service does not
// converge; one whose check passes runs.
func TestServiceHealthChecks(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	// UNHEALTHY_FILE names a file that exists: /health answers 503 from the start.
	d.MustDocker(t, "service", "create", "-d", "--name", "sick", "--env", "UNHEALTHY_FILE=/etc/passwd", imgs["healthy:1"])
	d.MustDocker(t, "service", "create", "-d", "--name", "fine", imgs["healthy:1"])
	waitRunning(t, d, "fine", 1)
	c := waitContainers(t, d, "fine", 1)[0]
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		st := d.MustDocker(t, "ps", "--filter", "id="+c, "--format", "{{.Status}}")
		return strings.HasSuffix(st, "(healthy)"), st
	})
	if got := d.MustDocker(t, "inspect", "--format", "{{.State.Health.Status}}", c); got != "healthy" {
		t.Errorf("health of a healthy container: %q", got)
	}
	fineTask := d.MustDocker(t, "inspect", "--format", `{{index .Config.Labels "com.docker.swarm.task.id"}}`, c)

	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "sick", "--no-trunc", "--format", "{{.CurrentState}}|{{.Error}}")
		return strings.Contains(ps, "Failed") && strings.Contains(ps, "task: container is unhealthy"), ps
	})
	if ls := d.MustDocker(t, "service", "ls", "--filter", "name=sick", "--format", "{{.Replicas}}"); ls != "0/1" {
		t.Errorf("service ls of the unhealthy service: %q", ls)
	}
	if ps := d.MustDocker(t, "service", "ps", "sick", "--format", "{{.CurrentState}}"); strings.Contains(ps, "Running") {
		t.Errorf("an unhealthy task reached running:\n%s", ps)
	}

	// A running task that turns unhealthy is stopped and replaced.
	d.MustDocker(t, "exec", c, "touch", "/tmp/unhealthy")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "fine", "--no-trunc", "--format", "{{.ID}} {{.CurrentState}}|{{.Error}}")
		return strings.Contains(ps, fineTask+" Failed") && strings.Contains(ps, "task: container is unhealthy") &&
			strings.Contains(ps, " Running"), ps
	})
}

// TestContainersSurviveDaemonKill: containers keep running while shoald is SIGKILLed, and the
// restarted shoald adopts them: same tasks running, same containers listed.
func TestContainersSurviveDaemonKill(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	d.MustDocker(t, "service", "create", "-d", "--name", "keep", "--replicas", "2", imgs["sleeper:1"], "adopt", "me")
	ids := waitContainers(t, d, "keep", 2)
	tasksBefore := d.MustDocker(t, "service", "ps", "keep", "-q", "--filter", "desired-state=running")
	var pids []int
	for _, id := range ids {
		pid, err := strconv.Atoi(d.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", id))
		if err != nil || pid <= 0 {
			t.Fatalf("pid of %s: %v", id, err)
		}
		pids = append(pids, pid)
	}

	d.Kill()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != nil {
			t.Errorf("container process %d died with shoald: %v", pid, err)
		}
	}
	d.Start()

	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps, _, code := d.Docker(t, "service", "ps", "keep", "--format", "{{.ID}} {{.CurrentState}}", "--filter", "desired-state=running")
		return code == 0 && strings.Count(ps, "Running") == 2, ps
	})
	if after := d.MustDocker(t, "service", "ps", "keep", "-q", "--filter", "desired-state=running"); after != tasksBefore {
		t.Errorf("tasks after restart:\n%s\nbefore:\n%s", after, tasksBefore)
	}
	if got := serviceContainers(t, d, "keep", false); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(ids))) {
		t.Errorf("containers after restart %v, before %v", got, ids)
	}
	for i, id := range ids {
		if got := d.MustDocker(t, "inspect", "--format", "{{.State.Pid}}", id); got != strconv.Itoa(pids[i]) {
			t.Errorf("pid of %s after restart: %s, want %d", id, got, pids[i])
		}
	}
	// The adopted containers' logs go on, and their execs work.
	if logs := d.MustDocker(t, "logs", ids[0]); logs != "sleeper: started adopt me" {
		t.Errorf("logs after restart: %q", logs)
	}
	if got := d.MustDocker(t, "exec", ids[0], "echo", "still here"); got != "still here" {
		t.Errorf("exec after restart: %q", got)
	}
}

// TestServiceAsAnotherUser: a task running as a user other than root reads its files and runs, as
// with Docker (the container's / is 0755), with its primary group among its groups.
func TestServiceAsAnotherUser(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	d.MustDocker(t, "service", "create", "-d", "--name", "nobody", "--user", "nobody", imgs["busybox:1"],
		"sh", "-c", "id; cat /etc/hostname; exec sleep 1000")
	ids := waitContainers(t, d, "nobody", 1)
	harness.Eventually(t, 20*time.Second, func() (bool, string) {
		logs := d.MustDocker(t, "logs", ids[0])
		return strings.HasPrefix(logs, "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"), logs
	})
	if got := d.MustDocker(t, "exec", ids[0], "stat", "-c", "%a", "/"); got != "755" {
		t.Errorf("mode of / in the container: %s", got)
	}
}
