package container

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// run is one execution of a container, from Start (or adoption) to its exit.
type run struct {
	lc     *libcontainer.Container
	proc   *libcontainer.Process // the init process when it is our child; nil when adopted
	pid    int
	pidfd  *os.File      // non-blocking pidfd, polled by the Go runtime
	exited chan struct{} // closed once the exit is recorded and its events are out
	// started is closed once the "start" event is out, so that "die" never comes first.
	started chan struct{}

	exitFile string // where the container init writes the exit code; "" without Spec.Init

	copiers sync.WaitGroup // stdout/stderr copiers
	mu      sync.Mutex
	readers []io.Closer // FIFO read ends or the TTY master, closed by detach

	killed     atomic.Bool   // this Runtime sent SIGKILL
	healthStop chan struct{} // closed to stop the health monitor; nil without a health check
	stopOnce   sync.Once
}

func newRun(lc *libcontainer.Container, pid int) (*run, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	return &run{lc: lc, pid: pid, pidfd: os.NewFile(uintptr(fd), "pidfd"), exited: make(chan struct{}), started: make(chan struct{})}, nil
}

// signal sends sig to the container's first process through its pidfd (no PID reuse races).
func (rn *run) signal(sig syscall.Signal) error {
	rc, err := rn.pidfd.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.PidfdSendSignal(int(fd), sig, nil, 0)
	}); err != nil {
		return err
	}
	if errors.Is(serr, unix.ESRCH) {
		return nil // exiting; the monitor records it
	}
	return serr
}

// waitExit blocks until the process has exited, or until detach closes the pidfd.
func (rn *run) waitExit() error {
	rc, err := rn.pidfd.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err == nil && n > 0
	})
}

// reap collects the exit status: from the process itself when it is our child, else unknown.
func (rn *run) reap() (code int, known bool) {
	if rn.proc != nil {
		ps, _ := rn.proc.Wait()
		if ps != nil {
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
				return exitCodeOf(ws), true
			}
		}
		return 255, false
	}
	// An adopted container may still be our child (a Runtime re-created in the same process).
	rc, err := rn.pidfd.SyscallConn()
	if err != nil {
		return 255, false
	}
	var info unix.Siginfo
	var werr error
	_ = rc.Control(func(fd uintptr) {
		werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG, nil)
	})
	if werr != nil || info.Signo == 0 {
		return 255, false
	}
	return siginfoExitCode(&info), true
}

// siginfoExitCode reads si_code and si_status of a SIGCHLD siginfo.
func siginfoExitCode(info *unix.Siginfo) int {
	// struct siginfo: signo, errno, code (3 x int32), pad, then for SIGCHLD: pid, uid, status.
	status := *(*int32)(unsafe.Add(unsafe.Pointer(info), 24))
	switch info.Code {
	case 1: // CLD_EXITED
		return int(status)
	case 2, 3: // CLD_KILLED, CLD_DUMPED
		return 128 + int(status)
	}
	return 255
}

func (rn *run) addReader(c io.Closer) {
	rn.mu.Lock()
	rn.readers = append(rn.readers, c)
	rn.mu.Unlock()
}

// stopHealth stops the health monitor, once.
func (rn *run) stopHealth() {
	rn.stopOnce.Do(func() {
		if rn.healthStop != nil {
			close(rn.healthStop)
		}
	})
}

// detach lets go of a running container without touching it (Runtime.Close).
func (rn *run) detach() {
	rn.stopHealth()
	rn.mu.Lock()
	for _, c := range rn.readers {
		_ = c.Close()
	}
	rn.readers = nil
	rn.mu.Unlock()
	_ = rn.pidfd.Close()
}

// watch runs the monitor of a run in the background.
func (r *Runtime) watch(c *ctr, rn *run) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := rn.waitExit(); err != nil {
			return // detached by Close
		}
		if r.ctx.Err() != nil {
			return
		}
		code, known := rn.reap()
		// The copiers end when the last process holding the FIFOs has gone.
		copied := make(chan struct{})
		go func() { rn.copiers.Wait(); close(copied) }()
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
			r.log.Warn("container output still open after exit", "id", c.id)
		}
		r.finishRun(c, rn, code, known)
	}()
}

// finishRun records the end of a run: exit code, OOM kill, cgroup and libcontainer cleanup.
func (r *Runtime) finishRun(c *ctr, rn *run, code int, known bool) {
	rn.stopHealth()
	c.mu.Lock()
	st := &c.meta.State
	st.Error = ""
	if !known {
		code, st.Error = r.unknownExitCode(rn)
	}
	oom := false
	if rn.lc != nil {
		oom = oomKilled(rn.lc)
		if err := rn.lc.Destroy(); err != nil {
			r.log.Warn("destroy libcontainer state", "id", c.id, "err", err)
		}
	}
	if err := r.releaseVolumes(c); err != nil {
		r.log.Warn("unmount volumes", "id", c.id, "err", err)
	}
	rn.detach()
	st.Status = StatusExited
	st.Paused = false
	st.Pid = 0
	st.ExitCode = code
	st.OOMKilled = oom
	st.FinishedAt = time.Now().UTC()
	if st.Health != nil {
		st.Health.Status = containertypes.Unhealthy
	}
	if err := c.save(); err != nil {
		r.log.Error("save container state", "id", c.id, "err", err)
	}
	c.mu.Unlock()
	if rn.started != nil {
		<-rn.started
	}
	if oom {
		r.emit(Event{ID: c.id, Action: "oom"})
	}
	r.emit(Event{ID: c.id, Action: "die", ExitCode: code})
	// Last, so that a Wait returns after the events are out.
	close(rn.exited)
}

// unknownExitCode is the exit code of a process that is not our child (see the package doc).
func (r *Runtime) unknownExitCode(rn *run) (int, string) {
	if rn.exitFile != "" {
		if b, err := os.ReadFile(rn.exitFile); err == nil {
			b = bytes.TrimPrefix(b, []byte(initReadyLine))
			if n, err := strconv.Atoi(string(bytes.TrimSpace(b))); err == nil {
				return n, ""
			}
		}
	}
	if rn.killed.Load() {
		return 128 + int(syscall.SIGKILL), ""
	}
	return 255, "exit status unknown: the container exited while it was not a child of this shoald"
}

// oomKilled reports whether the kernel OOM-killed a process in the container's memory cgroup.
func oomKilled(lc *libcontainer.Container) bool {
	st, err := lc.State()
	if err != nil {
		return false
	}
	if p, ok := st.CgroupPaths["memory"]; ok {
		return countField(filepath.Join(p, "memory.oom_control"), "oom_kill") > 0
	}
	if p, ok := st.CgroupPaths[""]; ok {
		return countField(filepath.Join(p, "memory.events"), "oom_kill") > 0
	}
	return false
}

// countField reads "key N" from a flat-keyed cgroup file.
func countField(path, key string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte{' '})
		if ok && string(k) == key {
			n, _ := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
			return n
		}
	}
	return 0
}

// waitExited waits for the end of rn, bounded by ctx.
func waitExited(ctx context.Context, rn *run) error {
	select {
	case <-rn.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
