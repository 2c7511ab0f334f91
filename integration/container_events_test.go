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

// containerEvent is one line of `docker events --format '{{json .}}'`.
type containerEvent struct {
	Status string `json:"status"`
	ID     string `json:"id"`
	From   string `json:"from"`
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
}

// eventsFor waits until the container's events since `since` are the actions want, in order,
// and returns them.
func eventsFor(t *testing.T, d *harness.Daemon, since, id string, want ...string) []containerEvent {
	t.Helper()
	var evs []containerEvent
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		// --until must be in the past for the stream to end; filtering here rather than with
		// --filter container= keeps the answer from being empty (the harness flags empty bodies)
		end := time.Now().Add(time.Second)
		time.Sleep(time.Until(end.Truncate(time.Second).Add(100 * time.Millisecond)))
		out := d.MustDocker(t, "events", "--since", since, "--until", strconv.FormatInt(end.Unix(), 10),
			"--filter", "type=container", "--format", "{{json .}}")
		evs = nil
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			var ev containerEvent
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("event %q: %v", line, err)
			}
			if ev.Actor.ID != id {
				continue
			}
			evs = append(evs, ev)
			got = append(got, ev.Action)
		}
		return strings.Join(got, "|") == strings.Join(want, "|"), fmt.Sprintf("actions %q, want %q", got, want)
	})
	for _, ev := range evs {
		if ev.Actor.ID != id || ev.ID != id || ev.Status != ev.Action || ev.From == "" || ev.From != ev.Actor.Attributes["image"] ||
			!strings.HasPrefix(ev.Actor.Attributes["name"], "cev.") || ev.Actor.Attributes["com.docker.swarm.service.name"] != "cev" {
			t.Errorf("%s: legacy fields or attributes %+v", ev.Action, ev)
		}
	}
	return evs
}

// TestContainerEvents: stop, kill, exec, rm -f and a scale-down log dockerd's container events,
// in its order and with its attributes, and the legacy status, id and from fields.
func TestContainerEvents(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	d.MustDocker(t, "service", "create", "-d", "--name", "cev", "--replicas", "2", imgs["busybox:1"],
		"sh", "-c", `trap "exit 7" USR1; trap "exit 0" TERM; while true; do sleep 0.1; done`)
	ids := waitContainers(t, d, "cev", 2)
	a, b := ids[0], ids[1]

	// docker exec
	d.MustDocker(t, "exec", a, "sh", "-c", "exit 0")
	// docker kill -s USR1: the trap ends the process with 7
	d.MustDocker(t, "kill", "-s", "USR1", a)
	evs := eventsFor(t, d, since, a, "create", "start", "exec_create: sh -c exit 0", "exec_start: sh -c exit 0", "exec_die", "kill", "die")
	execID := evs[2].Actor.Attributes["execID"]
	if len(execID) != 64 || evs[3].Actor.Attributes["execID"] != execID || evs[4].Actor.Attributes["execID"] != execID ||
		evs[4].Actor.Attributes["exitCode"] != "0" {
		t.Errorf("exec events %+v %+v %+v", evs[2], evs[3], evs[4])
	}
	if evs[5].Actor.Attributes["signal"] != "10" || evs[6].Actor.Attributes["exitCode"] != "7" {
		t.Errorf("kill/die %+v %+v", evs[5], evs[6])
	}

	// docker stop: kill 15, die 0, stop
	d.MustDocker(t, "stop", b)
	evs = eventsFor(t, d, since, b, "create", "start", "kill", "die", "stop")
	if evs[2].Actor.Attributes["signal"] != "15" || evs[3].Actor.Attributes["exitCode"] != "0" {
		t.Errorf("stop events %+v %+v", evs[2], evs[3])
	}

	// docker rm -f of a replacement: kill 9, die 137, destroy (with the task's labels)
	var c string
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		now := serviceContainers(t, d, "cev", false)
		for _, id := range now {
			if id != a && id != b {
				c = id
			}
		}
		return c != "", fmt.Sprintf("running %v", now)
	})
	d.MustDocker(t, "rm", "-f", c)
	evs = eventsFor(t, d, since, c, "create", "start", "kill", "die", "destroy")
	if evs[2].Actor.Attributes["signal"] != "9" || evs[3].Actor.Attributes["exitCode"] != "137" {
		t.Errorf("rm -f events %+v %+v", evs[2], evs[3])
	}

	// scale down to 1: the task stopped gets kill 15, die, stop, and its container is removed
	running := waitContainers(t, d, "cev", 2)
	d.MustDocker(t, "service", "scale", "-d", "cev=1")
	left := waitContainers(t, d, "cev", 1)
	gone := running[0]
	if gone == left[0] {
		gone = running[1]
	}
	evs = eventsFor(t, d, since, gone, "create", "start", "kill", "die", "stop", "destroy")
	if evs[2].Actor.Attributes["signal"] != "15" {
		t.Errorf("scale-down kill %+v", evs[2])
	}

	// destroy events of removed tasks can be filtered by service
	d.MustDocker(t, "service", "rm", "cev")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		until := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
		out := d.MustDocker(t, "events", "--since", since, "--until", until, "--filter", "event=destroy",
			"--filter", "label=com.docker.swarm.service.name=cev", "--format", "{{.ID}}")
		return strings.Contains(out, left[0]) && strings.Contains(out, c), out
	})
}
