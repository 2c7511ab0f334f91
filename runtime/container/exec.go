package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/docker/docker/errdefs"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// Exec runs a process in a running container and returns its exit code (128+signal when a
// signal ended it). stdin may be nil; when it is not, the caller closes it once the call has
// returned, or the goroutine copying it stays blocked in Read. stdout and stderr may be nil
// (discarded). With Tty the process gets a pseudo-terminal: stdin goes to it, all output comes
// on stdout, and each value on resize sets its size {height, width}. Exec returns when the
// process has exited and its output has been copied, or when ctx ends (the process is then
// killed). An error is returned when the process could not be started (exit code -1).
//
// Exec logs the events exec_create, exec_start and exec_die (once the process has run) under an
// exec ID of its own, as dockerd does for its health probes; an API exec that has its own ID
// uses ExecCreated and RunExec instead.
func (r *Runtime) Exec(ctx context.Context, ref string, es ExecSpec, stdin io.Reader, stdout, stderr io.Writer, resize <-chan [2]uint) (int, error) {
	if len(es.Cmd) == 0 {
		return -1, invalidf("No exec command specified")
	}
	id := newExecID()
	r.ExecCreated(ref, id, es.Cmd)
	return r.RunExec(ctx, ref, id, es, stdin, stdout, stderr, resize)
}

// ExecCreated logs the "exec_create" event of an exec set up in container ref under execID.
func (r *Runtime) ExecCreated(ref, execID string, cmd []string) {
	if c, err := r.lookup(ref); err == nil {
		r.emit(Event{ID: c.id, Action: "exec_create", ExecID: execID, ExecCmd: cmd})
	}
}

// CheckExecUser resolves user ("name", "uid", "name:group"...) in container ref's /etc/passwd
// and /etc/group, as dockerd checks an exec's user when the exec is created: errdefs.InvalidParameter
// "unable to find user x: no matching entries in passwd file" when it cannot.
func (r *Runtime) CheckExecUser(ref, user string) error {
	c, err := r.lookup(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	rootfs := c.meta.Mounts.Rootfs
	c.mu.Unlock()
	_, err = resolveUser(rootfs, user, nil)
	return err
}

// newExecID makes an exec ID as dockerd's: 64 hex digits.
func newExecID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RunExec is Exec for the exec execID (see ExecCreated): it logs "exec_start" before starting
// the process and "exec_die" with its exit code once it has run.
func (r *Runtime) RunExec(ctx context.Context, ref, execID string, es ExecSpec, stdin io.Reader, stdout, stderr io.Writer, resize <-chan [2]uint) (int, error) {
	if len(es.Cmd) == 0 {
		return -1, invalidf("No exec command specified")
	}
	c, err := r.lookup(ref)
	if err != nil {
		return -1, err
	}
	c.mu.Lock()
	rn, ok := c.running()
	spec := &c.meta.Spec
	u := c.meta.User
	rootfs := c.meta.Mounts.Rootfs
	env := spec.processEnv()
	cwd := spec.workingDir()
	c.mu.Unlock()
	if !ok {
		return -1, errNotRunning(c.id)
	}
	if es.User != "" {
		if u, err = resolveUser(rootfs, es.User, nil); err != nil {
			return -1, err
		}
	}
	env = MergeEnv(env, es.Env)
	if es.Tty && !hasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	if es.WorkingDir != "" {
		cwd = es.WorkingDir
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	p := &libcontainer.Process{
		Args:             es.Cmd,
		Env:              env,
		UID:              u.UID,
		GID:              u.GID,
		AdditionalGroups: u.Groups,
		Cwd:              cwd,
	}
	if es.Privileged {
		// as dockerd: every capability (the container's bounding set does not limit it)
		all := allCapabilities()
		p.Capabilities = &configs.Capabilities{Bounding: all, Permitted: all, Effective: all}
	}
	r.emit(Event{ID: c.id, Action: "exec_start", ExecID: execID, ExecCmd: es.Cmd})
	if !filepath.IsAbs(cwd) {
		// runc's check of the process spec, before it starts anything
		return -1, execStartError("OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown")
	}
	var code int
	if es.Tty {
		code, err = r.execTTY(ctx, rn.lc, p, es, stdin, stdout, resize)
	} else {
		code, err = r.execPipes(ctx, rn.lc, p, es.OnStart, stdin, stdout, stderr)
	}
	if err == nil {
		r.emit(Event{ID: c.id, Action: "exec_die", ExecID: execID, ExitCode: code})
	}
	return code, err
}

// notifyStarted calls onStart (if set) with the PID of a started exec process.
func notifyStarted(onStart func(int), p *libcontainer.Process) {
	if onStart == nil {
		return
	}
	if pid, err := p.Pid(); err == nil {
		onStart(pid)
	}
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

func (r *Runtime) execPipes(ctx context.Context, lc *libcontainer.Container, p *libcontainer.Process, onStart func(int), stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var toClose []*os.File
	closeAll := func() {
		for _, f := range toClose {
			_ = f.Close()
		}
		toClose = nil
	}
	defer closeAll()
	outR, outW, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return -1, err
	}
	toClose = append(toClose, outW, errW)
	p.Stdout, p.Stderr = outW, errW
	var inW *os.File
	if stdin != nil {
		inR, w, err := os.Pipe()
		if err != nil {
			outR.Close()
			errR.Close()
			return -1, err
		}
		inW = w
		toClose = append(toClose, inR)
		p.Stdin = inR
	}
	if err := lc.Run(p); err != nil {
		outR.Close()
		errR.Close()
		if inW != nil {
			inW.Close()
		}
		return -1, execError(err)
	}
	closeAll() // the process has its own copies now
	notifyStarted(onStart, p)

	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); _, _ = io.Copy(stdout, outR) }()
	go func() { defer copies.Done(); _, _ = io.Copy(stderr, errR) }()
	if inW != nil {
		go func() {
			_, _ = io.Copy(inW, stdin)
			_ = inW.Close()
		}()
	}
	code := waitProcess(ctx, p)
	if inW != nil {
		_ = inW.Close() // the process is gone: unblock the stdin copier at its next write
	}
	done := make(chan struct{})
	go func() { copies.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	_ = outR.Close()
	_ = errR.Close()
	return code, nil
}

func (r *Runtime) execTTY(ctx context.Context, lc *libcontainer.Container, p *libcontainer.Process, es ExecSpec, stdin io.Reader, stdout io.Writer, resize <-chan [2]uint) (int, error) {
	parent, child, err := newConsoleSocket()
	if err != nil {
		return -1, err
	}
	defer parent.Close()
	p.ConsoleSocket = child
	p.ConsoleHeight, p.ConsoleWidth = uint16(es.ConsoleSize[0]), uint16(es.ConsoleSize[1])
	if p.ConsoleHeight == 0 || p.ConsoleWidth == 0 {
		p.ConsoleHeight, p.ConsoleWidth = 24, 80
	}
	err = lc.Run(p)
	child.Close()
	if err != nil {
		return -1, execError(err)
	}
	notifyStarted(es.OnStart, p)
	master, err := recvFile(parent)
	if err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
		return -1, err
	}
	defer master.Close()

	finished := make(chan struct{})
	resizerDone := make(chan struct{})
	defer func() { close(finished); <-resizerDone }()
	go func() {
		defer close(resizerDone)
		for {
			select {
			case sz, ok := <-resize:
				if !ok {
					return
				}
				_ = setWinsize(master, sz)
			case <-finished:
				return
			}
		}
	}()
	if stdin != nil {
		go func() { _, _ = io.Copy(master, stdin) }()
	}
	outDone := make(chan struct{})
	go func() {
		defer close(outDone)
		_, _ = io.Copy(stdout, master) // ends with EIO once every slave end is closed
	}()
	code := waitProcess(ctx, p)
	select {
	case <-outDone:
	case <-ctx.Done():
	}
	return code, nil
}

// setWinsize sets a terminal's size {height, width}.
func setWinsize(tty *os.File, size [2]uint) error {
	rc, err := tty.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(size[0]), Col: uint16(size[1])})
	}); err != nil {
		return err
	}
	return ierr
}

// waitProcess waits for an exec'd process, killing it when ctx ends.
func waitProcess(ctx context.Context, p *libcontainer.Process) int {
	type result struct {
		ps  *os.ProcessState
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ps, err := p.Wait()
		ch <- result{ps, err}
	}()
	var res result
	select {
	case res = <-ch:
	case <-ctx.Done():
		_ = p.Signal(unix.SIGKILL)
		res = <-ch
	}
	if res.ps != nil {
		if ws, ok := res.ps.Sys().(syscall.WaitStatus); ok {
			return exitCodeOf(ws)
		}
	}
	return -1
}

// execError is a failed exec start as dockerd reports it: runc's "exec failed: <error>" as
// containerd passes it on ("OCI runtime exec failed: ...: unknown"), then classified and
// completed as moby's setExitCodeFromError does.
func execError(err error) error {
	if errors.Is(err, libcontainer.ErrNotRunning) {
		return invalidf("OCI runtime exec failed: %v", err)
	}
	return execStartError("OCI runtime exec failed: exec failed: " + err.Error() + ": unknown")
}

// ExecStartExitCode is the exit code dockerd gives an exec that could not start (err from Exec or
// RunExec), as moby's setExitCodeFromError: 126 when the command cannot be invoked (permission
// denied, a directory), 127 when it does not exist (or a path is not a directory), 128 otherwise.
func ExecStartExitCode(err error) int {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"):
		return 126
	case strings.Contains(msg, "not a directory"), strings.Contains(msg, "executable file not found"),
		strings.Contains(msg, "no such file or directory"):
		return 127
	}
	return 128
}

// execStartError classifies the text of a failed exec start as moby's setExitCodeFromError: a
// command that cannot be run (permission denied, is a directory, not a directory, not found) is
// an invalid parameter, with dockerd's additions to the text; anything else is unknown (500).
func execStartError(desc string) error {
	lower := strings.ToLower(desc)
	switch {
	case strings.Contains(lower, "permission denied"):
		return errdefs.InvalidParameter(errors.New(desc))
	case strings.Contains(lower, "is a directory"):
		// dockerd fudges Go's EISDIR back into EACCES, which the CLI turns into exit code 126
		return errdefs.InvalidParameter(errors.New(desc + ": permission denied"))
	case strings.Contains(lower, "not a directory"):
		return errdefs.InvalidParameter(errors.New(desc + ": Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type"))
	case strings.Contains(lower, "executable file not found"), strings.Contains(lower, "no such file or directory"):
		return errdefs.InvalidParameter(errors.New(desc))
	}
	return errdefs.Unknown(errors.New(desc))
}
