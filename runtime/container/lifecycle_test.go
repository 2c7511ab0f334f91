package container

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunExitCode(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sh", "-c", "echo hello; exit 3"))
	code, oom := e.wait(c.ID)
	if code != 3 || oom {
		t.Fatalf("exit = %d oom=%v, want 3 false", code, oom)
	}
	got, err := e.r.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	st := got.State
	if st.Status != StatusExited || st.ExitCode != 3 || st.Pid != 0 || st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Fatalf("state = %+v", st)
	}
	if out := e.output(c.ID); out != "hello\n" {
		t.Fatalf("output = %q", out)
	}
}

func TestLookupByNameAndPrefix(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("true")
	if _, err := e.r.Create(testCtx(t), s); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{s.ID, s.ID[:12], s.Name, "/" + s.Name} {
		c, err := e.r.Get(ref)
		if err != nil || c.ID != s.ID || c.State.Status != StatusCreated {
			t.Fatalf("Get(%q) = %+v, %v", ref, c, err)
		}
	}
	if _, err := e.r.Get("nope"); !errors.Is(err, ErrNotFound) || err.Error() != "No such container: nope" {
		t.Fatalf("Get(nope) error = %v", err)
	}
	dup := testSpec("true")
	dup.Name = s.Name
	if _, err := e.r.Create(testCtx(t), dup); !errors.Is(err, ErrExists) {
		t.Fatalf("create with a used name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dataRoot, "containers", dup.ID)); !os.IsNotExist(err) {
		t.Fatalf("a failed create left its directory: %v", err)
	}
}

func TestStartFailureIsReported(t *testing.T) {
	e := newTestEnv(t)
	c, err := e.r.Create(testCtx(t), testSpec("/no/such/binary"))
	if err != nil {
		t.Fatal(err)
	}
	err = e.r.Start(testCtx(t), c.ID)
	if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("start error = %v", err)
	}
	got, _ := e.r.Get(c.ID)
	if got.State.Status != StatusCreated || got.State.Error == "" {
		t.Fatalf("state after failed start = %+v", got.State)
	}
	_ = time.Second
}
