package routes

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

func TestEventIncluded(t *testing.T) {
	svc := eventAt(time.Unix(100, 0), events.ServiceEventType, events.ActionUpdate, "svcid123", "web")
	ctr := events.Message{Type: events.ContainerEventType, Action: "exec_start: sh -c true", Scope: "local",
		Actor: events.Actor{ID: "c0ffee", Attributes: map[string]string{"name": "web.1.abc", "image": "busybox:1.36",
			"com.docker.swarm.service.name": "web"}}}
	img := events.Message{Type: events.ImageEventType, Action: events.ActionPull, Scope: "local",
		Actor: events.Actor{ID: "sha256:abc", Attributes: map[string]string{"name": "docker.io/library/busybox:1.36"}}}
	tests := []struct {
		name string
		args filters.Args
		ev   events.Message
		want bool
	}{
		{"no filter", filters.NewArgs(), svc, true},
		{"type match", filters.NewArgs(filters.Arg("type", "service")), svc, true},
		{"type mismatch", filters.NewArgs(filters.Arg("type", "node")), svc, false},
		{"event exact", filters.NewArgs(filters.Arg("event", "update")), svc, true},
		{"event mismatch", filters.NewArgs(filters.Arg("event", "create")), svc, false},
		{"exec_start fuzzy", filters.NewArgs(filters.Arg("event", "exec_start")), ctr, true},
		{"scope", filters.NewArgs(filters.Arg("scope", "local")), svc, false},
		{"service by name", filters.NewArgs(filters.Arg("service", "web")), svc, true},
		{"service by id prefix", filters.NewArgs(filters.Arg("service", "svcid")), svc, true},
		{"service other", filters.NewArgs(filters.Arg("service", "db")), svc, false},
		{"container by name", filters.NewArgs(filters.Arg("container", "web.1")), ctr, true},
		{"image of container", filters.NewArgs(filters.Arg("image", "busybox")), ctr, true},
		{"image event by familiar name", filters.NewArgs(filters.Arg("image", "busybox")), img, true},
		{"image other", filters.NewArgs(filters.Arg("image", "alpine")), img, false},
		{"label", filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name=web")), ctr, true},
		{"label mismatch", filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name=db")), ctr, false},
		{"unknown key ignored", filters.NewArgs(filters.Arg("whatever", "x")), svc, true},
	}
	for _, tt := range tests {
		if got := eventIncluded(tt.args, tt.ev); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBufferedEvents(t *testing.T) {
	var all []events.Message
	for i := int64(1); i <= 5; i++ {
		all = append(all, eventAt(time.Unix(i*10, 0), events.ServiceEventType, events.ActionCreate, fmt.Sprint(i), "s"))
	}
	ids := func(evs []events.Message) string {
		var s []string
		for _, e := range evs {
			s = append(s, e.Actor.ID)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		since, until int64
		want         string
	}{
		{0, 0, ""},
		{20, 0, "2,3,4,5"},
		{0, 30, "1,2,3"},
		{20, 40, "2,3,4"},
		{60, 0, ""},
	}
	for _, tt := range tests {
		var since, until time.Time
		if tt.since != 0 {
			since = time.Unix(tt.since, 0)
		}
		if tt.until != 0 {
			until = time.Unix(tt.until, 0)
		}
		if got := ids(bufferedEvents(all, since, until)); got != tt.want {
			t.Errorf("since %d until %d: %q, want %q", tt.since, tt.until, got, tt.want)
		}
	}
}

func TestEventsStream(t *testing.T) {
	env := startEnv(t)
	now := time.Now()
	env.events.buffered = []events.Message{
		eventAt(now.Add(-30*time.Second), events.ServiceEventType, events.ActionCreate, "s1", "web"),
		eventAt(now.Add(-20*time.Second), events.NodeEventType, events.ActionUpdate, "n1", "node1"),
		eventAt(now.Add(-10*time.Second), events.ServiceEventType, events.ActionRemove, "s1", "web"),
	}

	// Past events only: since/until both in the past, the stream ends by itself.
	resp, body := env.do(t, "GET", fmt.Sprintf("/v1.41/events?since=%d&until=%d&filters=%s",
		now.Add(-time.Minute).Unix(), now.Add(-time.Second).Unix(), `%7B%22type%22%3A%7B%22service%22%3Atrue%7D%7D`), "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"Action":"create"`) || !strings.Contains(lines[1], `"Action":"remove"`) {
		t.Fatalf("past events: %q", body)
	}

	// since after until.
	resp, body = env.do(t, "GET", "/events?since=20&until=10", "", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "`since` time (20) cannot be after `until` time (10)") {
		t.Errorf("since>until: %d %s", resp.StatusCode, body)
	}

	// Live: the SDK sees a published event that matches, not one that does not.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, errs := env.sdk(t).Events(ctx, events.ListOptions{Filters: filters.NewArgs(filters.Arg("type", "node"))})
	env.events.waitSubscribers(t, 1)
	env.events.publish(eventAt(time.Now(), events.ServiceEventType, events.ActionCreate, "s2", "api"))
	env.events.publish(eventAt(time.Now(), events.NodeEventType, events.ActionUpdate, "n1", "node1"))
	select {
	case m := <-msgs:
		if m.Type != events.NodeEventType || m.Actor.ID != "n1" {
			t.Errorf("got %+v", m)
		}
	case err := <-errs:
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatal("no event")
	}
	cancel()
	// The subscription ends when the client goes away.
	env.events.waitSubscribers(t, 0)
}

func TestEventsCLI(t *testing.T) {
	env := startEnv(t)
	now := time.Now()
	env.events.buffered = []events.Message{
		eventAt(now.Add(-20*time.Second), events.ServiceEventType, events.ActionCreate, "s1", "web"),
		eventAt(now.Add(-10*time.Second), events.ServiceEventType, events.ActionUpdate, "s1", "web"),
	}
	res := env.docker(t, "", "events", "--since", fmt.Sprint(now.Add(-time.Minute).Unix()), "--until", fmt.Sprint(now.Add(-time.Second).Unix()),
		"--filter", "type=service", "--filter", "event=create", "--format", "{{json .}}")
	if res.code != 0 {
		t.Fatalf("rc %d: %s", res.code, res.stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	var got []events.Message
	for sc.Scan() {
		var m events.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		got = append(got, m)
	}
	if len(got) != 1 || got[0].Action != events.ActionCreate || got[0].Actor.Attributes["name"] != "web" {
		t.Errorf("events: %q", res.stdout)
	}
}
