package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/errdefs"
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

// TestExecStartErrors: an exec that cannot start fails with dockerd's text, "OCI runtime exec
// failed: exec failed: ...: unknown", classified as dockerd does.
func TestExecStartErrors(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sleep", "1000"))
	ctx := testCtx(t)
	tests := []struct {
		es       ExecSpec
		want     string
		invalid  bool
		exitCode int
	}{
		{ExecSpec{Cmd: []string{"nosuchcmd"}},
			`OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown`, true, 127},
		{ExecSpec{Cmd: []string{"/nosuch/path"}},
			`OCI runtime exec failed: exec failed: unable to start container process: exec: "/nosuch/path": stat /nosuch/path: no such file or directory: unknown`, true, 127},
		{ExecSpec{Cmd: []string{"/etc/passwd"}},
			`OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/passwd": permission denied: unknown`, true, 126},
		{ExecSpec{Cmd: []string{"pwd"}, WorkingDir: "/nonexist"},
			`OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nonexist") set in config.json failed: no such file or directory: unknown`, true, 127},
		{ExecSpec{Cmd: []string{"pwd"}, WorkingDir: "relative"},
			`OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown`, false, 128},
		{ExecSpec{Cmd: []string{"id"}, User: "nosuchuser"},
			`unable to find user nosuchuser: no matching entries in passwd file`, true, 128},
		{ExecSpec{Cmd: []string{"id"}, User: "nobody:nosuchgrp"},
			`unable to find group nosuchgrp: no matching entries in group file`, true, 128},
	}
	for _, tt := range tests {
		code, err := e.r.Exec(ctx, c.ID, tt.es, nil, nil, nil, nil)
		if err == nil || code != -1 || err.Error() != tt.want || errdefs.IsInvalidParameter(err) != tt.invalid {
			t.Errorf("exec %v in %q as %q: %d %v (invalid parameter %v), want %s", tt.es.Cmd, tt.es.WorkingDir, tt.es.User,
				code, err, errdefs.IsInvalidParameter(err), tt.want)
			continue
		}
		if got := ExecStartExitCode(err); got != tt.exitCode {
			t.Errorf("exec %v in %q as %q: exit code %d, want %d", tt.es.Cmd, tt.es.WorkingDir, tt.es.User, got, tt.exitCode)
		}
	}
	if err := e.r.CheckExecUser(c.ID, "nosuchuser"); err == nil || !errdefs.IsInvalidParameter(err) ||
		err.Error() != "unable to find user nosuchuser: no matching entries in passwd file" {
		t.Errorf("CheckExecUser of a missing user: %v", err)
	}
	if err := e.r.CheckExecUser(c.ID, "nobody"); err != nil {
		t.Errorf("CheckExecUser nobody: %v", err)
	}
}

func TestExecStartErrorClass(t *testing.T) {
	const p = "OCI runtime exec failed: exec failed: unable to start container process: "
	tests := []struct {
		desc, want string
		invalid    bool
	}{
		{p + `exec: "/tmp": is a directory: unknown`, p + `exec: "/tmp": is a directory: unknown: permission denied`, true},
		{p + `chdir to cwd ("/etc/passwd") set in config.json failed: not a directory: unknown`,
			p + `chdir to cwd ("/etc/passwd") set in config.json failed: not a directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`, true},
		{p + `unable to apply caps: operation not permitted: unknown`, p + `unable to apply caps: operation not permitted: unknown`, false},
	}
	for _, tt := range tests {
		err := execStartError(tt.desc)
		if err.Error() != tt.want || errdefs.IsInvalidParameter(err) != tt.invalid || errdefs.IsUnknown(err) == tt.invalid {
			t.Errorf("execStartError(%q) = %v (invalid %v)", tt.desc, err, errdefs.IsInvalidParameter(err))
		}
	}
}

// TestExecPrivileged: exec --privileged asks for every capability, as dockerd; where the
// daemon itself lacks some (as on a host whose bounding set is not full), runc refuses and the
// exec fails with the error a dockerd over runc >= 1.2 shows (runc 1.1 lacked "can't apply
// capabilities: ").
func TestExecPrivileged(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sleep", "1000"))
	ctx := testCtx(t)
	var out bytes.Buffer
	code, err := e.r.Exec(ctx, c.ID, ExecSpec{Cmd: []string{"sh", "-c", "grep CapEff /proc/self/status"}, Privileged: true}, nil, &out, nil, nil)
	own, rerr := os.ReadFile("/proc/self/status")
	if rerr != nil {
		t.Fatal(rerr)
	}
	full := capEff(string(own)) == allCapsMask()
	switch {
	case full && (err != nil || code != 0 || capEff(out.String()) != allCapsMask()):
		t.Errorf("privileged exec: %d %v %q, want CapEff %s", code, err, out.String(), allCapsMask())
	case !full && (err == nil || err.Error() != "OCI runtime exec failed: exec failed: unable to start container process: unable to apply caps: can't apply capabilities: operation not permitted: unknown"):
		t.Errorf("privileged exec without every capability: %d %v %q", code, err, out.String())
	}
	out.Reset()
	if code, err := e.r.Exec(ctx, c.ID, ExecSpec{Cmd: []string{"sh", "-c", "grep CapEff /proc/self/status"}}, nil, &out, nil, nil); err != nil || code != 0 ||
		capEff(out.String()) != "00000000a80425fb" {
		t.Errorf("exec without --privileged: %d %v %q", code, err, out.String())
	}
}

// capEff is the CapEff value of a /proc/<pid>/status text.
func capEff(status string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// allCapsMask is CapEff with every capability up to the kernel's last one.
func allCapsMask() string {
	return fmt.Sprintf("%016x", uint64(1)<<(len(allCapabilities()))-1)
}
