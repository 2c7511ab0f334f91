package container

import (
	"strings"
	"testing"
	"time"
)

// eventsOf drains the events seen so far for container id, as "action" or "action:detail".
func eventsOf(e *testEnv, id string) []Event {
	var out []Event
	for {
		select {
		case ev := <-e.events:
			if ev.ID == id {
				out = append(out, ev)
			}
		default:
			return out
		}
	}
}

func actionsOf(evs []Event) string {
	var a []string
	for _, ev := range evs {
		a = append(a, ev.Action)
	}
	return strings.Join(a, ",")
}

func TestEventsOfStopExecAndDelete(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("sleep", "1000") // sleep as PID 1 ignores SIGTERM: the stop ends with SIGKILL
	s.Image = "img:1"
	s.Labels = map[string]string{"com.docker.swarm.service.name": "svc"}
	c := e.run(s)
	if code, err := e.r.Exec(testCtx(t), c.ID, ExecSpec{Cmd: []string{"sh", "-c", "exit 3"}}, nil, nil, nil, nil); err != nil || code != 3 {
		t.Fatalf("exec: %d %v", code, err)
	}
	if err := e.r.Stop(testCtx(t), c.ID, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	evs := eventsOf(e, c.ID)
	want := "create,start,exec_create,exec_start,exec_die,kill,kill,die,stop,destroy"
	if got := actionsOf(evs); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	for _, ev := range evs {
		if ev.Name != s.Name || ev.Image != "img:1" || ev.Labels["com.docker.swarm.service.name"] != "svc" {
			t.Errorf("%s: name %q image %q labels %v", ev.Action, ev.Name, ev.Image, ev.Labels)
		}
	}
	execID := evs[2].ExecID
	if len(execID) != 64 || evs[3].ExecID != execID || evs[4].ExecID != execID || evs[4].ExitCode != 3 ||
		strings.Join(evs[2].ExecCmd, " ") != "sh -c exit 3" {
		t.Errorf("exec events %+v %+v %+v", evs[2], evs[3], evs[4])
	}
	if evs[5].Signal != 15 || evs[6].Signal != 9 || evs[7].ExitCode != 137 {
		t.Errorf("kill/die events %+v %+v %+v", evs[5], evs[6], evs[7])
	}

	// Delete of a running container (docker rm -f): kill 9, die, destroy, no stop.
	c2 := e.run(testSpec("sleep", "1000"))
	if err := e.r.Delete(c2.ID); err != nil {
		t.Fatal(err)
	}
	evs = eventsOf(e, c2.ID)
	if got := actionsOf(evs); got != "create,start,kill,die,destroy" || evs[2].Signal != 9 {
		t.Fatalf("rm -f events %s %+v", got, evs)
	}
}
