package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEvents: `docker events` shows swarm events (scope swarm) with dockerd's attributes, and the
// task containers' events.
func TestEvents(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)
	d.MustDocker(t, "service", "create", "-d", "--name", "ev", "--replicas", "1", imgs["sleeper:1"])
	waitRunning(t, d, "ev", 1)
	d.MustDocker(t, "service", "scale", "-d", "ev=2")
	waitRunning(t, d, "ev", 2)
	d.MustDocker(t, "service", "rm", "ev")
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	time.Sleep(1100 * time.Millisecond) // --until must be in the past for the stream to end

	out := d.MustDocker(t, "events", "--since", since, "--until", until, "--filter", "type=service",
		"--format", "{{.Type}} {{.Action}} {{.Scope}} {{.Actor.Attributes.name}} {{index .Actor.Attributes \"replicas.old\"}}>{{index .Actor.Attributes \"replicas.new\"}}")
	for _, want := range []string{"service create swarm ev", "service update swarm ev 1>2", "service remove swarm ev"} {
		if !strings.Contains(out, want) {
			t.Errorf("service events lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "container ") {
		t.Errorf("type=service let other events through:\n%s", out)
	}
	out = d.MustDocker(t, "events", "--since", since, "--until", until, "--filter", "type=container",
		"--filter", "label=com.docker.swarm.service.name=ev", "--format", "{{.Action}}")
	for _, want := range []string{"create", "start"} {
		if !strings.Contains(out, want) {
			t.Errorf("container events lack %q:\n%s", want, out)
		}
	}
}
