package integration

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestServiceLogsAcrossNodes: on a manager, docker service logs shows the lines of the tasks on
// every node, each named <service>.<slot>.<task>@<host>, whole, by task ID and followed; a node
// that cannot be reached ends the stream with swarmkit's warning after the lines of the others.
func TestServiceLogsAcrossNodes(t *testing.T) {
	c, imgs := swarmOf(t, 3, 1)
	h1, h3 := c.Hosts[0], c.Hosts[2]
	h1.MustDocker(t, "service", "create", "-d", "--name", "lg", "--replicas", "3", "--replicas-max-per-node", "1",
		imgs["busybox:1"], "sh", "-c", "echo hello from $(hostname); i=0; while true; do sleep 1; i=$((i+1)); echo tick $i; done")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		m := tasksPerNode(t, h1, "lg")
		return total(m) == 3 && len(m) == 3, fmt.Sprint(m)
	})
	// the container each host runs for the service
	containerOn := map[string]string{}
	for _, h := range c.Hosts {
		ids := strings.Fields(h.MustDocker(t, "ps", "-q", "--no-trunc", "--filter", "label=com.docker.swarm.service.name=lg"))
		if len(ids) != 1 {
			t.Fatalf("%s runs %d containers of lg: %v", h.Name, len(ids), ids)
		}
		containerOn[h.Name] = ids[0]
	}

	// every task's first line, from the manager
	helloRe := regexp.MustCompile(`^lg\.([123])\.([a-z0-9]{12})@(host[123])\s+\| hello from ([0-9a-f]{12})$`)
	var hellos []string
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out, stderr, code := h1.Docker(t, "service", "logs", "lg")
		hellos = nil
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "hello from") {
				hellos = append(hellos, l)
			}
		}
		return code == 0 && stderr == "" && len(hellos) == 3, fmt.Sprintf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
	})
	slots, hosts := map[string]bool{}, map[string]bool{}
	for _, l := range hellos {
		m := helloRe.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("service logs line %q does not match %s", l, helloRe)
			continue
		}
		slots[m[1]], hosts[m[3]] = true, true
		if want := containerOn[m[3]][:12]; m[4] != want {
			t.Errorf("line %q: %s runs container %s", l, m[3], want)
		}
	}
	if len(slots) != 3 || len(hosts) != 3 {
		t.Errorf("hello lines from slots %v on hosts %v, want 3 and 3:\n%s", slots, hosts, strings.Join(hellos, "\n"))
	}

	// one task on a worker, by its ID
	var taskID string
	for _, l := range strings.Split(h1.MustDocker(t, "service", "ps", "lg", "--no-trunc", "--filter", "desired-state=running", "--format", "{{.ID}} {{.Node}}"), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] == "host3" {
			taskID = f[0]
		}
	}
	if taskID == "" {
		t.Fatal("no running task of lg on host3")
	}
	out := h1.MustDocker(t, "service", "logs", "--no-task-ids", taskID)
	if first := strings.SplitN(out, "\n", 2)[0]; !regexp.MustCompile(`^lg\.[123]@host3\s+\| hello from ` + containerOn["host3"][:12] + `$`).MatchString(first) {
		t.Errorf("service logs of task %s on host3 starts with %q", taskID, first)
	}
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "@host3 ") {
			t.Errorf("service logs of task %s shows %q", taskID, l)
		}
	}

	// follow with --tail 1: one line per task, then the lines the tasks print later
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	followed := h1.Daemon.DockerLines(ctx, t, "service", "logs", "-f", "--tail", "1", "lg")
	tickRe := regexp.MustCompile(`^(lg\.[123]\.[a-z0-9]{12})@(host[123])\s+\| (?:tick (\d+)|hello from [0-9a-f]{12})$`)
	firstTick := map[string]int{} // per task: the tick of its tail line
	later := map[string]bool{}    // workers from which a later line came
	deadline := time.After(30 * time.Second)
	for !(later["host2"] && later["host3"]) {
		select {
		case l, ok := <-followed:
			if !ok {
				t.Fatalf("service logs -f ended; tail lines %v", firstTick)
			}
			m := tickRe.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("service logs -f line %q does not match %s", l, tickRe)
			}
			n, _ := strconv.Atoi(m[3]) // the hello line counts as tick 0
			first, seen := firstTick[m[1]]
			switch {
			case !seen:
				firstTick[m[1]] = n
			case n <= first:
				t.Fatalf("service logs -f: %q after tick %d of the same task", l, first)
			default:
				later[m[2]] = true
			}
		case <-deadline:
			t.Fatalf("service logs -f: no later line from both workers; tail lines %v, later from %v", firstTick, later)
		}
	}
	if len(firstTick) != 3 {
		t.Errorf("service logs -f --tail 1 followed %d tasks, want 3: %v", len(firstTick), firstTick)
	}
	cancel()

	// a worker whose daemon is gone: the others' lines, then the warning naming it
	node3 := h1.MustDocker(t, "node", "inspect", "host3", "--format", "{{.ID}}")
	h3.Kill()
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out, stderr, code := h1.Docker(t, "service", "logs", "lg")
		want := "error from daemon in stream: Error grabbing logs: rpc error: code = Unknown desc = warning: incomplete log stream. " +
			"some logs could not be retrieved for the following reasons: node " + node3 + " is not available"
		return code != 0 && strings.Contains(stderr, want) && strings.Count(out, "hello from") == 2 && !strings.Contains(out, "@host3"),
			fmt.Sprintf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
	})
}

// TestServiceLogsOnFollower: a manager that does not lead answers service logs too (it forwards
// the request to the leader, whose dispatcher holds every node's session).
func TestServiceLogsOnFollower(t *testing.T) {
	c, imgs := swarmOf(t, 3, 2)
	h1, h2 := c.Hosts[0], c.Hosts[1]
	h1.MustDocker(t, "service", "create", "-d", "--name", "fl", "--mode", "global", imgs["busybox:1"],
		"sh", "-c", "echo hello from $(hostname); exec sleep 1000")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		m := tasksPerNode(t, h1, "fl")
		return total(m) == 3 && len(m) == 3, fmt.Sprint(m)
	})
	// the CLI names a global service's tasks with slot 0
	lineRe := regexp.MustCompile(`^fl\.0\.[a-z0-9]{12}@(host[123])\s+\| hello from [0-9a-f]{12}$`)
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out, stderr, code := h2.Docker(t, "service", "logs", "fl")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		hosts := map[string]bool{}
		for _, l := range lines {
			if m := lineRe.FindStringSubmatch(l); m != nil {
				hosts[m[1]] = true
			}
		}
		return code == 0 && stderr == "" && len(hosts) == 3 && len(lines) == 3,
			fmt.Sprintf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
	})
}
