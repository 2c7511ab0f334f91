package server

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"

	"github.com/shoal-project/shoal/runtime/container"
)

func TestContainerMessage(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	base := container.Event{ID: "c1", Time: at, Name: "web.1.x", Image: "img:1",
		Labels: map[string]string{"com.docker.swarm.service.name": "web"}}
	with := func(f func(*container.Event)) container.Event { ev := base; f(&ev); return ev }
	tests := []struct {
		name   string
		ev     container.Event
		action events.Action
		attrs  map[string]string
	}{
		{"kill", with(func(e *container.Event) { e.Action, e.Signal = "kill", 15 }), "kill", map[string]string{"signal": "15"}},
		{"die", with(func(e *container.Event) { e.Action, e.ExitCode, e.ExecDuration = "die", 137, 3500*time.Millisecond }), "die",
			map[string]string{"exitCode": "137", "execDuration": "3"}},
		{"stop", with(func(e *container.Event) { e.Action = "stop" }), "stop", map[string]string{}},
		{"destroy", with(func(e *container.Event) { e.Action = "destroy" }), "destroy", map[string]string{}},
		{"exec_create", with(func(e *container.Event) {
			e.Action, e.ExecID, e.ExecCmd = "exec_create", "e1", []string{"sh", "-c", "true"}
		}),
			"exec_create: sh -c true", map[string]string{"execID": "e1"}},
		{"exec_start without args", with(func(e *container.Event) { e.Action, e.ExecID, e.ExecCmd = "exec_start", "e1", []string{"true"} }),
			"exec_start: true ", map[string]string{"execID": "e1"}},
		{"exec_die", with(func(e *container.Event) { e.Action, e.ExecID, e.ExitCode = "exec_die", "e1", 3 }), "exec_die",
			map[string]string{"execID": "e1", "exitCode": "3"}},
		{"health", with(func(e *container.Event) { e.Action, e.Health = "health_status", "healthy" }), "health_status: healthy", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := containerMessage(tt.ev)
			if m.Action != tt.action || m.Type != events.ContainerEventType || m.Scope != "local" {
				t.Fatalf("message %+v", m)
			}
			//nolint:staticcheck // the legacy fields are what is tested
			if m.Status != string(tt.action) || m.ID != "c1" || m.From != "img:1" {
				t.Errorf("legacy fields status %q id %q from %q", m.Status, m.ID, m.From)
			}
			if m.Time != at.Unix() || m.TimeNano != at.UnixNano() || m.Actor.ID != "c1" {
				t.Errorf("time or actor %+v", m)
			}
			want := map[string]string{"name": "web.1.x", "image": "img:1", "com.docker.swarm.service.name": "web"}
			for k, v := range tt.attrs {
				want[k] = v
			}
			if len(m.Actor.Attributes) != len(want) {
				t.Errorf("attributes %v, want %v", m.Actor.Attributes, want)
			}
			for k, v := range want {
				if m.Actor.Attributes[k] != v {
					t.Errorf("attribute %s = %q, want %q", k, m.Actor.Attributes[k], v)
				}
			}
		})
	}
	if m := containerMessage(with(func(e *container.Event) { e.Action = "start" })); base.Labels["name"] != "" || len(base.Labels) != 1 {
		t.Errorf("the event's labels were changed: %v (%v)", base.Labels, m)
	}
}
