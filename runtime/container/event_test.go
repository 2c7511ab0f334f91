package container

import (
	"testing"
	"time"
)

func TestEventOf(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &ctr{id: "abc", name: "web.1"}
	c.meta.Spec.Image = "img:1"
	c.meta.Spec.Labels = map[string]string{"l": "v"}
	c.meta.State.StartedAt = start
	c.meta.State.FinishedAt = start.Add(90 * time.Second)
	tests := []struct {
		action string
		dur    time.Duration
	}{{"die", 90 * time.Second}, {"kill", 0}, {"destroy", 0}}
	for _, tt := range tests {
		ev := eventOf(c, Event{Action: tt.action, Signal: 9})
		if ev.ID != "abc" || ev.Name != "web.1" || ev.Image != "img:1" || ev.Labels["l"] != "v" || ev.Signal != 9 || ev.ExecDuration != tt.dur {
			t.Errorf("%s: %+v", tt.action, ev)
		}
		ev.Labels["l"] = "changed"
		if c.meta.Spec.Labels["l"] != "v" {
			t.Fatal("the event shares the container's labels")
		}
	}
}

func TestRunDuration(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		start, end time.Time
		want       time.Duration
	}{
		{t0, t0.Add(5 * time.Second), 5 * time.Second},
		{time.Time{}, t0, 0},
		{t0, time.Time{}, 0},
		{t0.Add(time.Second), t0, 0}, // an end before the start (a restart in progress)
	}
	for _, tt := range tests {
		if got := runDuration(tt.start, tt.end); got != tt.want {
			t.Errorf("runDuration(%v, %v) = %v, want %v", tt.start, tt.end, got, tt.want)
		}
	}
}

func TestNewExecID(t *testing.T) {
	a, b := newExecID(), newExecID()
	if len(a) != 64 || a == b {
		t.Errorf("exec IDs %q %q", a, b)
	}
}
