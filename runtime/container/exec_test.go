package container

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the copier goroutines and the test.
type lockedBuffer struct {
	limitedBuffer
}

func newBuf() *lockedBuffer { return &lockedBuffer{limitedBuffer{max: 1 << 20}} }

func TestExecPipes(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("sleep", "1000")
	s.Env = []string{"FROM_SPEC=1"}
	s.WorkingDir = "/tmp"
	c := e.run(s)
	ctx := testCtx(t)

	var stdout, stderr bytes.Buffer
	code, err := e.r.Exec(ctx, c.ID, ExecSpec{Cmd: []string{"sh", "-c", `echo "out $FROM_SPEC $EXTRA $(pwd) $(id -u)"; echo err >&2; exit 5`}, Env: []string{"EXTRA=2"}, User: "app"},
		nil, &stdout, &stderr, nil)
	if err != nil || code != 5 {
		t.Fatalf("exec: %d %v", code, err)
	}
	if stdout.String() != "out 1 2 /tmp 1000\n" || stderr.String() != "err\n" {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}

	stdout.Reset()
	code, err = e.r.Exec(ctx, c.ID, ExecSpec{Cmd: []string{"cat"}, WorkingDir: "/"}, strings.NewReader("line one\nline two\n"), &stdout, nil, nil)
	if err != nil || code != 0 || stdout.String() != "line one\nline two\n" {
		t.Fatalf("exec cat: %d %v %q", code, err, stdout.String())
	}

	if _, err := e.r.Exec(ctx, c.ID, ExecSpec{Cmd: []string{"/no/such"}}, nil, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "OCI runtime exec failed") {
		t.Fatalf("exec of a missing binary: %v", err)
	}

	// A cancelled context kills the process.
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, _ = e.r.Exec(cctx, c.ID, ExecSpec{Cmd: []string{"sleep", "100"}}, nil, nil, nil, nil)
	if code != 137 || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled exec: code %d after %v", code, time.Since(start))
	}
}

func TestExecTTY(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sleep", "1000"))
	ctx := testCtx(t)

	out := newBuf()
	code, err := e.r.Exec(ctx, c.ID, ExecSpec{Cmd: []string{"sh", "-c", "tty; stty size; echo term=$TERM"}, Tty: true, ConsoleSize: [2]uint{30, 100}}, nil, out, nil, nil)
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	got := strings.ReplaceAll(out.String(), "\r\n", "\n")
	if !strings.Contains(got, "/dev/pts/") || !strings.Contains(got, "30 100\n") || !strings.Contains(got, "term=xterm\n") {
		t.Fatalf("tty output %q", got)
	}

	// Interactive: input goes through the terminal, a resize reaches the process.
	pr, pw := io.Pipe()
	defer pw.Close()
	resize := make(chan [2]uint)
	out = newBuf()
	done := make(chan error, 1)
	go func() {
		code, err := e.r.Exec(ctx, c.ID, ExecSpec{Cmd: []string{"sh", "-c", "read a; stty size; echo got=$a; exit 3"}, Tty: true}, pr, out, nil, resize)
		if err == nil && code != 3 {
			err = errors.New("exit code " + string(rune('0'+code)))
		}
		done <- err
	}()
	// The channel is unbuffered: the second send completes only once the first size is set.
	resize <- [2]uint{40, 120}
	resize <- [2]uint{40, 120}
	if _, err := pw.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("interactive exec did not end")
	}
	got = strings.ReplaceAll(out.String(), "\r\n", "\n")
	if !strings.Contains(got, "40 120\n") || !strings.Contains(got, "got=hello\n") {
		t.Fatalf("interactive output %q", got)
	}
}

func TestExecNotRunning(t *testing.T) {
	e := newTestEnv(t)
	c, err := e.r.Create(testCtx(t), testSpec("true"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.r.Exec(testCtx(t), c.ID, ExecSpec{Cmd: []string{"true"}}, nil, nil, nil, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("exec in a created container: %v", err)
	}
}

func TestTop(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sh", "-c", "sleep 1000 & sleep 1001"))
	eventually(t, 10*time.Second, "two sleeps", func() bool {
		top, err := e.r.Top(c.ID, "")
		return err == nil && len(top.Processes) == 2
	})
	top, err := e.r.Top(c.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(top.Titles, " ") != "UID PID PPID C STIME TTY TIME CMD" {
		t.Fatalf("titles %v", top.Titles)
	}
	var cmds []string
	for _, p := range top.Processes {
		cmds = append(cmds, p[7])
	}
	all := strings.Join(cmds, "|")
	// sh execs its last command: sleep 1001 is PID 1, sleep 1000 its child.
	if !strings.Contains(all, "sleep 1000") || !strings.Contains(all, "sleep 1001") {
		t.Fatalf("processes %v", top.Processes)
	}
	// The /proc reader gives the same rows as ps -ef.
	pids, _ := e.r.ctrs[c.ID].run.lc.Processes()
	native, err := procTop(pids, time.Now())
	if err != nil || len(native.Processes) != 2 {
		t.Fatalf("procTop: %v %v", native, err)
	}
	for i := range native.Processes {
		if native.Processes[i][1] != top.Processes[i][1] || native.Processes[i][7] != top.Processes[i][7] || native.Processes[i][0] != top.Processes[i][0] {
			t.Errorf("procTop row %v, ps row %v", native.Processes[i], top.Processes[i])
		}
	}
	if _, err := e.r.Top(c.ID, "-o pid,comm"); err != nil {
		t.Fatalf("top with ps args: %v", err)
	}
}
