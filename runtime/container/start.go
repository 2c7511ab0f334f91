package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"
)

// buildConfig makes the libcontainer configuration of c; c.mu is held.
func (r *Runtime) buildConfig(c *ctr, caps []string) (*configs.Config, error) {
	s := &c.meta.Spec
	spec, err := ociSpec(s, c.meta.Mounts, r.cgroupsPath(c.id), caps, r.swap)
	if err != nil {
		return nil, err
	}
	if spec.Linux.Seccomp, err = seccompProfile(s.SeccompProfile, spec); err != nil {
		return nil, err
	}
	return libcontainerConfig(s, spec)
}

// Start runs the container's process. A container that has exited can be started again; its
// writable layer, volumes and log are kept.
func (r *Runtime) Start(ctx context.Context, ref string) error {
	c, err := r.lookup(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.removing {
		c.mu.Unlock()
		return errNotFound(ref)
	}
	if _, ok := c.running(); ok {
		c.mu.Unlock()
		return errAlreadyRunning(c.id)
	}
	rn, err := r.startLocked(c)
	if err != nil {
		c.meta.State.Error = err.Error()
		_ = c.save()
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	r.emit(Event{ID: c.id, Action: "start"})
	close(rn.started)
	return nil
}

func (r *Runtime) startLocked(c *ctr) (_ *run, retErr error) {
	s := &c.meta.Spec
	// Leftovers of a run that no Runtime finished (e.g. a crash during a start).
	if old := r.loadLibcontainer(c.id); old != nil {
		_ = old.Signal(unix.SIGKILL)
		_ = old.Destroy()
	}
	if err := mountOverlay(s.LowerDirs, filepath.Join(c.dir, "diff"), filepath.Join(c.dir, "work"), c.meta.Mounts.Rootfs); err != nil {
		return nil, err
	}
	if err := r.mountVolumes(c); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			_ = r.releaseVolumes(c)
		}
	}()
	caps, err := tweakCapabilities(s.CapabilityAdd, s.CapabilityDrop, allCapabilities())
	if err != nil {
		return nil, err
	}
	cfg, err := r.buildConfig(c, caps)
	if err != nil {
		return nil, err
	}
	lc, err := libcontainer.Create(r.lcRoot, c.id, cfg)
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", c.id, err)
	}
	defer func() {
		if retErr != nil {
			_ = lc.Destroy()
		}
	}()

	runDir := r.runDir(c.id)
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return nil, err
	}
	u := c.meta.User
	proc := &libcontainer.Process{
		Args:             s.argv(),
		Env:              s.processEnv(),
		UID:              u.UID,
		GID:              u.GID,
		AdditionalGroups: u.Groups,
		Cwd:              s.workingDir(),
		Init:             true,
	}
	var exitFile string
	if s.Init {
		exitFile = filepath.Join(runDir, "exitcode")
		f, err := os.OpenFile(exitFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		// The init finds the file at fd 3 (the first extra file).
		proc.ExtraFiles = []*os.File{f}
		proc.Args = append([]string{initPathInContainer, "--"}, proc.Args...)
		proc.Env = append(proc.Env, initExitFDEnv+"=3")
	}

	var fifos *stdioFIFOs
	var consoleParent *os.File
	if s.TTY {
		parent, child, err := newConsoleSocket()
		if err != nil {
			return nil, err
		}
		defer child.Close()
		consoleParent = parent
		defer consoleParent.Close()
		proc.ConsoleSocket = child
		proc.ConsoleHeight, proc.ConsoleWidth = 24, 80
	} else {
		if fifos, err = openStdioFIFOs(runDir); err != nil {
			return nil, err
		}
		defer fifos.closeWriters()
		proc.Stdout, proc.Stderr = fifos.stdoutW, fifos.stderrW
	}

	if err := lc.Run(proc); err != nil {
		if fifos != nil {
			fifos.closeAll()
		}
		return nil, startError(err)
	}
	pid, err := proc.Pid()
	if err == nil {
		var rn *run
		if rn, err = newRun(lc, pid); err == nil {
			rn.proc = proc
			rn.exitFile = exitFile
			r.attachOutput(c, rn, fifos, consoleParent)
			c.run = rn
			st := &c.meta.State
			*st = State{Status: StatusRunning, Pid: pid, StartedAt: time.Now().UTC()}
			if probe, _ := healthProbeCommand(s.Healthcheck); probe != nil {
				st.Health = &containertypes.Health{Status: containertypes.Starting, Log: []*containertypes.HealthcheckResult{}}
			}
			if err := c.save(); err != nil {
				r.log.Error("save container state", "id", c.id, "err", err)
			}
			r.watch(c, rn)
			r.startHealth(c, rn)
			waitExecd(pid, 5*time.Second)
			if exitFile != "" && r.ownInit() {
				waitInitReady(exitFile, pid, 5*time.Second)
			}
			return rn, nil
		}
	}
	_ = proc.Signal(unix.SIGKILL)
	_, _ = proc.Wait()
	if fifos != nil {
		fifos.closeAll()
	}
	return nil, err
}

// ownInit reports whether the container init is this program (which reports readiness).
func (r *Runtime) ownInit() bool {
	exe, err := os.Executable()
	if err != nil {
		return false
	}
	a, err1 := os.Stat(exe)
	b, err2 := os.Stat(r.opts.InitPath)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// waitExecd waits until libcontainer's init has exec'd the container's command: before that,
// a signal would hit the bootstrap code (whose Go runtime exits on SIGTERM) rather than the
// command. libcontainer names its bootstrap "runc:[2:INIT]".
func waitExecd(pid int, timeout time.Duration) {
	comm := fmt.Sprintf("/proc/%d/comm", pid)
	pollUntil(pid, timeout, func() bool {
		b, err := os.ReadFile(comm)
		return err != nil || strings.TrimSpace(string(b)) != "runc:[2:INIT]"
	})
}

// waitInitReady waits until the container init handles signals (it writes its ready line), so
// that a Kill or Stop right after Start reaches the command instead of ending the init.
func waitInitReady(exitFile string, pid int, timeout time.Duration) {
	pollUntil(pid, timeout, func() bool {
		fi, err := os.Stat(exitFile)
		return err == nil && fi.Size() > 0
	})
}

// pollUntil polls cond every millisecond until it holds, the process pid has exited (it is our
// child, so a zombie until reaped) or the timeout passes.
func pollUntil(pid int, timeout time.Duration, cond func() bool) {
	stat := fmt.Sprintf("/proc/%d/stat", pid)
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
		b, err := os.ReadFile(stat)
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return
		}
	}
}

// attachOutput starts copying the run's output into the log.
func (r *Runtime) attachOutput(c *ctr, rn *run, fifos *stdioFIFOs, console *os.File) {
	if fifos != nil {
		for _, s := range []struct {
			name string
			f    *os.File
		}{{"stdout", fifos.stdoutR}, {"stderr", fifos.stderrR}} {
			rn.addReader(s.f)
			rn.copiers.Add(1)
			go func() {
				defer rn.copiers.Done()
				copyStream(c.logs, s.name, s.f)
			}()
		}
		return
	}
	master, err := recvFile(console)
	if err != nil {
		r.log.Error("receive container console", "id", c.id, "err", err)
		return
	}
	rn.addReader(master)
	rn.copiers.Add(1)
	go func() {
		defer rn.copiers.Done()
		copyStream(c.logs, "stdout", master)
	}()
}

// startError classifies a libcontainer start error the way Docker does.
func startError(err error) error {
	return startErrorPrefix("failed to create task for container: OCI runtime create failed", err)
}

func startErrorPrefix(prefix string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"),
		strings.Contains(msg, "not a directory"), strings.Contains(msg, "permission denied"):
		return errdefs.InvalidParameter(fmt.Errorf("%s: %w", prefix, err))
	}
	return errdefs.System(fmt.Errorf("%s: %w", prefix, err))
}

// reopenOutput re-opens the FIFOs of an adopted run and goes on copying.
func (r *Runtime) reopenOutput(c *ctr, rn *run) {
	runDir := r.runDir(c.id)
	for _, name := range []string{"stdout", "stderr"} {
		f, err := openFIFOReader(filepath.Join(runDir, name+".fifo"))
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				r.log.Warn("reopen container output", "id", c.id, "err", err)
			}
			continue
		}
		rn.addReader(f)
		rn.copiers.Add(1)
		go func() {
			defer rn.copiers.Done()
			copyStream(c.logs, name, f)
		}()
	}
}
