package container

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestThawsOnSignal(t *testing.T) {
	tests := []struct {
		stopSignal string
		sig        syscall.Signal
		want       bool
	}{
		{"", syscall.SIGTERM, true},
		{"", syscall.SIGUSR1, true}, // no stop signal set: any signal thaws, as dockerd
		{"", syscall.SIGKILL, true},
		{"SIGINT", syscall.SIGINT, true},
		{"INT", syscall.SIGINT, true},
		{"SIGINT", syscall.SIGTERM, false},
		{"SIGINT", syscall.SIGKILL, true},
		{"bogus", syscall.SIGTERM, false},
	}
	for _, tt := range tests {
		if got := thawsOnSignal(tt.stopSignal, tt.sig); got != tt.want {
			t.Errorf("thawsOnSignal(%q, %v) = %v, want %v", tt.stopSignal, tt.sig, got, tt.want)
		}
	}
}

// pendingActions drains the events of container id seen so far.
func pendingActions(e *testEnv, id string) []string {
	var out []string
	for {
		select {
		case ev := <-e.events:
			if ev.ID == id {
				out = append(out, ev.Action)
			}
		default:
			return out
		}
	}
}

// TestStopPausedContainer: as dockerd, stopping a paused container thaws it after the stop
// signal, so the process acts on the signal at once (no wait for the grace period and SIGKILL).
func TestStopPausedContainer(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sh", "-c", `trap "exit 3" TERM; echo ready; while true; do sleep 0.05; done`))
	eventually(t, 10*time.Second, "ready", func() bool { return strings.Contains(e.output(c.ID), "ready") })
	if err := e.r.Pause(c.ID); err != nil {
		t.Fatal(err)
	}
	pendingActions(e, c.ID)
	start := time.Now()
	if err := e.r.Stop(testCtx(t), c.ID, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("stop of a paused container took %v", d)
	}
	got, _ := e.r.Get(c.ID)
	if got.State.Status != StatusExited || got.State.ExitCode != 3 || got.State.Paused {
		t.Fatalf("state %+v", got.State)
	}
	if acts := strings.Join(pendingActions(e, c.ID), " "); acts != "kill unpause die stop" {
		t.Errorf("events %q, want kill unpause die stop", acts)
	}
}

// TestKillPausedContainer: SIGKILL ends a paused container; a signal that is not the stop signal
// leaves it paused, as dockerd.
func TestKillPausedContainer(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("sleep", "1000")
	s.StopSignal = "SIGINT"
	c := e.run(s)
	if err := e.r.Pause(c.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Kill(c.ID, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.r.Get(c.ID); got.State.Status != StatusRunning || !got.State.Paused {
		t.Fatalf("after SIGUSR1: state %+v", got.State)
	}
	if err := e.r.Kill(c.ID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.wait(c.ID); code != 137 {
		t.Fatalf("exit %d, want 137", code)
	}
	if got, _ := e.r.Get(c.ID); got.State.Paused {
		t.Fatalf("still paused: %+v", got.State)
	}
}

func TestRestartedEvent(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sleep", "1000"))
	pendingActions(e, c.ID)
	e.r.Restarted(c.ID)
	if acts := strings.Join(pendingActions(e, c.ID), " "); acts != "restart" {
		t.Errorf("events %q, want restart", acts)
	}
}
