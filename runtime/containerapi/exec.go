package containerapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/moby/term"

	"github.com/shoal-project/shoal/runtime/container"
)

// execKeep is how long a finished exec stays inspectable (dockerd drops them after about 5-10
// minutes).
const execKeep = 10 * time.Minute

// execProcess is one exec instance: created, then run once.
type execProcess struct {
	id          string
	containerID string
	opts        containertypes.ExecOptions

	mu       sync.Mutex
	ran      bool // ExecStart was called
	running  bool
	pid      int
	exitCode int
	ended    time.Time
	resize   chan [2]uint // latest terminal size for the running process
}

// execRegistry holds the exec instances by ID.
type execRegistry struct {
	mu    sync.Mutex
	execs map[string]*execProcess
}

func newExecRegistry() *execRegistry {
	return &execRegistry{execs: map[string]*execProcess{}}
}

func (r *execRegistry) get(id string) (*execProcess, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.execs[id]; ok {
		return e, nil
	}
	return nil, errdefs.NotFound(fmt.Errorf("No such exec instance: %s", id))
}

// add registers e and drops the execs that finished long ago.
func (r *execRegistry) add(e *execProcess, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, o := range r.execs {
		o.mu.Lock()
		old := !o.running && !o.ended.IsZero() && now.Sub(o.ended) > execKeep
		o.mu.Unlock()
		if old {
			delete(r.execs, id)
		}
	}
	r.execs[e.id] = e
}

// runningIDs lists the execs running in a container (inspect's ExecIDs), nil when none.
func (r *execRegistry) runningIDs(containerID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id, e := range r.execs {
		e.mu.Lock()
		if e.containerID == containerID && e.running {
			ids = append(ids, id)
		}
		e.mu.Unlock()
	}
	sort.Strings(ids)
	return ids
}

// forgetContainer drops the execs of a removed container.
func (r *execRegistry) forgetContainer(containerID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, e := range r.execs {
		if e.containerID == containerID {
			delete(r.execs, id)
		}
	}
}

func newExecID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// ExecCreate sets up an exec in a running container and returns its ID.
func (b *Backend) ExecCreate(ctx context.Context, name string, cfg containertypes.ExecOptions) (string, error) {
	c, err := b.get(name)
	if err != nil {
		return "", err
	}
	if c.State.Status != container.StatusRunning {
		return "", errdefs.Conflict(fmt.Errorf("container %s is not running", c.ID))
	}
	if len(cfg.Cmd) == 0 {
		return "", errdefs.InvalidParameter(fmt.Errorf("No exec command specified"))
	}
	if cfg.User != "" {
		// as dockerd: an unknown user fails the create, not the start
		if err := b.rt.CheckExecUser(c.ID, cfg.User); err != nil {
			return "", err
		}
	}
	if err := checkDetachKeys(cfg.DetachKeys); err != nil {
		return "", err
	}
	cfg.Cmd = append([]string(nil), cfg.Cmd...)
	e := &execProcess{id: newExecID(), containerID: c.ID, opts: cfg, resize: make(chan [2]uint, 1)}
	b.execs.add(e, b.now())
	b.rt.ExecCreated(c.ID, e.id, cfg.Cmd)
	return e.id, nil
}

// checkDetachKeys checks an exec's detach keys ("ctrl-p,ctrl-q"...) as dockerd does when the
// exec is created.
func checkDetachKeys(keys string) error {
	if keys == "" {
		return nil
	}
	if _, err := term.ToBytes(keys); err != nil {
		return fmt.Errorf("Invalid escape keys (%s) provided", keys)
	}
	return nil
}

// ExecStart runs an exec. Attached, it returns once the process has exited and its output is
// written; detached (all streams nil), once the process has started.
func (b *Backend) ExecStart(ctx context.Context, execID string, stdin io.Reader, stdout, stderr io.Writer) error {
	e, err := b.execs.get(execID)
	if err != nil {
		return err
	}
	c, err := b.get(e.containerID)
	if err != nil {
		return err
	}
	if c.State.Status != container.StatusRunning {
		return errdefs.Conflict(fmt.Errorf("container %s is not running", c.ID))
	}
	e.mu.Lock()
	switch {
	case e.running:
		e.mu.Unlock()
		return errdefs.Conflict(fmt.Errorf("exec command %s is already running", e.id))
	case e.ran:
		e.mu.Unlock()
		return errdefs.Conflict(fmt.Errorf("exec command %s has already run", e.id))
	}
	e.ran, e.running = true, true
	e.mu.Unlock()

	o := e.opts
	spec := container.ExecSpec{Cmd: o.Cmd, Env: o.Env, User: o.User, WorkingDir: o.WorkingDir, Tty: o.Tty, Privileged: o.Privileged}
	if o.ConsoleSize != nil {
		spec.ConsoleSize = *o.ConsoleSize
	}
	started := make(chan struct{})
	spec.OnStart = func(pid int) {
		e.mu.Lock()
		e.pid = pid
		e.mu.Unlock()
		close(started)
	}
	detached := stdin == nil && stdout == nil && stderr == nil
	if !o.AttachStdin {
		stdin = nil
	}
	if !o.AttachStdout {
		stdout = nil
	}
	if !o.AttachStderr {
		stderr = nil
	}
	if !detached {
		code, err := b.rt.RunExec(ctx, e.containerID, e.id, spec, stdin, stdout, stderr, e.resize)
		e.finish(code, err, b.now())
		return err
	}
	failed := make(chan error, 1)
	go func() {
		code, err := b.rt.RunExec(context.WithoutCancel(ctx), e.containerID, e.id, spec, nil, nil, nil, e.resize)
		e.finish(code, err, b.now())
		failed <- err
	}()
	select {
	case <-started:
		return nil
	case err := <-failed:
		return err
	}
}

// finish records the end of an exec's run.
func (e *execProcess) finish(code int, err error, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil && code < 0 {
		code = container.ExecStartExitCode(err)
	}
	e.running, e.exitCode, e.ended = false, code, now
}

// ExecResize sets the terminal size of a running exec with a TTY. Before the process starts the
// size is kept for it; after it has ended the call does nothing.
func (b *Backend) ExecResize(ctx context.Context, execID string, height, width uint) error {
	e, err := b.execs.get(execID)
	if err != nil {
		return err
	}
	size := [2]uint{height, width}
	for {
		select {
		case e.resize <- size:
			return nil
		default:
		}
		select { // replace a size nobody has read yet
		case <-e.resize:
		default:
		}
	}
}

// ExecInspect answers GET /exec/{id}/json.
func (b *Backend) ExecInspect(ctx context.Context, execID string) (*containertypes.ExecInspect, error) {
	e, err := b.execs.get(execID)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return &containertypes.ExecInspect{ExecID: e.id, ContainerID: e.containerID, Running: e.running,
		ExitCode: e.exitCode, Pid: e.pid}, nil
}
