package container

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startInHelper has another process (a stand-in for shoald) create and start a container,
// then exit without stopping it.
func startInHelper(t *testing.T, e *testEnv, s Spec) string {
	t.Helper()
	job, _ := json.Marshal(helperJob{ExecRoot: e.execRoot, DataRoot: e.dataRoot, CgroupParent: e.cgParent, Spec: s})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+string(job))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestAdoptContainerAfterShoaldDies(t *testing.T) {
	e := newTestEnv(t)
	e.r.Close()
	e.r = nil

	s := testSpec("sh", "-c", "echo before; while [ ! -e /tmp/go ]; do sleep 0.02; done; echo after; exec sleep 1000")
	s.Init = true
	s.Healthcheck = nil
	id := startInHelper(t, e, s)
	if id != s.ID {
		t.Fatalf("helper started %q", id)
	}
	// The helper is gone; the container must not be.
	e.r = e.open()
	c, err := e.r.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Status != StatusRunning || c.State.Pid == 0 || syscall.Kill(c.State.Pid, 0) != nil {
		t.Fatalf("adopted state %+v", c.State)
	}
	ctx := testCtx(t)
	// Exec works on an adopted container, and its output reaches the log through the
	// re-opened FIFOs.
	if code, err := e.r.Exec(ctx, id, ExecSpec{Cmd: []string{"touch", "/tmp/go"}}, nil, nil, nil, nil); err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	eventually(t, 20*time.Second, "output after adoption", func() bool {
		return e.output(id) == "before\nafter\n"
	})
	// Wait and Kill work too; the init recorded the exit code for us: sleep died of SIGTERM.
	if err := e.r.Kill(id, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, oom := e.wait(id)
	if code != 143 || oom {
		t.Fatalf("exit %d oom %v, want 143", code, oom)
	}
	got, _ := e.r.Get(id)
	if got.State.Error != "" || got.State.Status != StatusExited {
		t.Fatalf("state %+v", got.State)
	}
}

func TestAdoptWithoutInitAndExitWhileAway(t *testing.T) {
	e := newTestEnv(t)
	e.r.Close()
	e.r = nil

	// Without the init the exit status of a process that is not our child is lost; a SIGKILL
	// we sent ourselves still gives 137.
	killed := startInHelper(t, e, testSpec("sleep", "1000"))
	// This one exits while no Runtime is watching; its init leaves the code behind.
	away := testSpec("sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.02; done; exit 9")
	away.Init = true
	awayID := startInHelper(t, e, away)

	r := e.open()
	e.r = r
	if code, err := r.Exec(testCtx(t), awayID, ExecSpec{Cmd: []string{"touch", "/tmp/go"}}, nil, nil, nil, nil); err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	// Forget about the containers (as a dying shoald would), wait for the exit, re-adopt.
	r.Close()
	eventually(t, 20*time.Second, "the container to exit", func() bool {
		c, _ := r.Get(awayID)
		return c.State.Pid != 0 && syscall.Kill(c.State.Pid, 0) != nil
	})
	e.r = e.open()
	c, err := e.r.Get(awayID)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Status != StatusExited || c.State.ExitCode != 9 {
		t.Fatalf("exited while away: %+v", c.State)
	}

	if err := e.r.Kill(killed, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code, _, err := e.r.Wait(ctx, killed)
	if err != nil || code != 137 {
		t.Fatalf("wait: %d %v", code, err)
	}
}
