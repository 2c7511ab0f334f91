package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/docker/docker/errdefs"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// Wait blocks until the container is not running and returns its exit code and whether the
// kernel OOM-killed a process in it. A container that is not running (created or exited)
// returns at once with its last exit code, like Docker's "not-running" condition. Wait works
// for adopted containers too (see the package doc for their exit codes).
func (r *Runtime) Wait(ctx context.Context, ref string) (exitCode int, oomKilled bool, err error) {
	c, err := r.lookup(ref)
	if err != nil {
		return 0, false, err
	}
	c.mu.Lock()
	// The last run, exited or not: its monitor may still be sending the "die" event, and a
	// Wait returns only after that (exited is closed last).
	rn := c.run
	st := c.meta.State
	c.mu.Unlock()
	if rn != nil {
		if err := waitExited(ctx, rn); err != nil {
			return 0, false, err
		}
		c.mu.Lock()
		st = c.meta.State
		c.mu.Unlock()
	}
	return st.ExitCode, st.OOMKilled, nil
}

// Kill sends sig to the container's first process.
func (r *Runtime) Kill(ref string, sig syscall.Signal) error {
	c, err := r.lookup(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rn, ok := c.running()
	if !ok {
		return errNotRunning(c.id)
	}
	return r.signalLocked(c, rn, sig)
}

// signalLocked sends sig to the run's first process and, as dockerd, logs a "kill" event with
// the signal's number; c.mu is held.
func (r *Runtime) signalLocked(c *ctr, rn *run, sig syscall.Signal) error {
	if sig == unix.SIGKILL {
		rn.killed.Store(true)
	}
	if err := rn.signal(sig); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("signal container: %w", err)
	}
	thaw := c.meta.State.Paused && thawsOnSignal(c.meta.Spec.StopSignal, sig)
	if thaw && rn.lc != nil {
		// as dockerd: a frozen process cannot act on the signal, so the container is thawed
		// after it has been sent (its stop signal or SIGKILL)
		if err := rn.lc.Resume(); err != nil {
			if !errors.Is(err, libcontainer.ErrNotPaused) { // not when SIGKILL already ended it
				r.log.Warn("cannot unpause container", "id", c.id, "err", err)
			}
			thaw = false
		}
	}
	r.emitLocked(c, Event{Action: "kill", Signal: int(sig)})
	if thaw {
		c.meta.State.Paused = false
		if err := c.save(); err != nil {
			r.log.Warn("save container state", "id", c.id, "err", err)
		}
		r.emitLocked(c, Event{Action: "unpause"})
	}
	return nil
}

// thawsOnSignal tells whether sending sig to a paused container thaws it, as dockerd's
// killWithSignal decides: SIGKILL does, and so does the container's stop signal (any signal
// when none is set).
func thawsOnSignal(stopSignal string, sig syscall.Signal) bool {
	if stopSignal == "" || sig == unix.SIGKILL {
		return true
	}
	s, err := ParseSignal(stopSignal)
	return err == nil && s == sig
}

// Stopped logs the "stop" event that ends a successful stop request made of Kill and Wait
// calls, as dockerd logs it after its stop sequence (Stop logs its own).
func (r *Runtime) Stopped(ref string) {
	c, err := r.lookup(ref)
	if err != nil {
		return
	}
	r.emit(Event{ID: c.id, Action: "stop"})
}

// Restarted logs the "restart" event that ends a successful restart request (a stop, if the
// container ran, then a start), as dockerd logs it after the start.
func (r *Runtime) Restarted(ref string) {
	c, err := r.lookup(ref)
	if err != nil {
		return
	}
	r.emit(Event{ID: c.id, Action: "restart"})
}

// Stop sends the container's stop signal, waits up to grace for it to exit, then kills it with
// SIGKILL and waits for the exit (bounded by ctx). grace < 0 means the Spec's StopGracePeriod
// (default 10s). Stopping a container that is not running does nothing. As dockerd, a stop that
// succeeds logs the events kill (one per signal sent), die and stop.
func (r *Runtime) Stop(ctx context.Context, ref string, grace time.Duration) (err error) {
	c, err := r.lookup(ref)
	if err != nil {
		return err
	}
	ran := false
	defer func() {
		if ran && err == nil {
			r.emit(Event{ID: c.id, Action: "stop"})
		}
	}()
	c.mu.Lock()
	rn, ok := c.running()
	if !ok {
		c.mu.Unlock()
		return nil
	}
	ran = true
	spec := &c.meta.Spec
	if grace < 0 {
		grace = spec.stopGrace()
	}
	sig, err := ParseSignal(spec.stopSignal())
	if err != nil {
		sig = unix.SIGTERM
	}
	rn.stopHealth() // as dockerd: no health checks while a container stops (see Delete)
	err = r.signalLocked(c, rn, sig)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if grace > 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-rn.exited:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	c.mu.Lock()
	select {
	case <-rn.exited:
	default:
		err = r.signalLocked(c, rn, unix.SIGKILL)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return waitExited(ctx, rn)
}

// Delete removes a container: a running one is killed first (like docker rm --force). Its
// rootfs is unmounted, its volumes with options are unmounted unless another container uses them,
// its cgroups, libcontainer state, directory, log and anonymous volumes are removed. Named
// volumes stay.
func (r *Runtime) Delete(ref string) error {
	c, err := r.lookup(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.removing {
		c.mu.Unlock()
		return errNotFound(ref)
	}
	c.removing = true
	rn, running := c.running()
	if running {
		// stop the health checks first: an exec'd probe caught by the kill stays a zombie, holding up
		// the container's init, until its Exec returns and reaps it
		rn.stopHealth()
		_ = r.signalLocked(c, rn, unix.SIGKILL)
	}
	c.mu.Unlock()
	if running {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := waitExited(ctx, rn)
		cancel()
		if err != nil {
			c.mu.Lock()
			c.removing = false
			c.mu.Unlock()
			return fmt.Errorf("remove container %s: could not kill it: %w", c.id, err)
		}
	}

	c.mu.Lock()
	if c.run != nil {
		c.run.detach()
	}
	var errs []error
	if lc := r.loadLibcontainer(c.id); lc != nil {
		_ = lc.Signal(unix.SIGKILL)
		if err := lc.Destroy(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := unmountAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	if err := r.releaseVolumes(c); err != nil {
		errs = append(errs, err)
	}
	c.logs.close()
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(r.runDir(c.id)); err != nil {
		errs = append(errs, err)
	}
	r.dropVolumeRefs(c.id)
	for _, v := range c.meta.AnonVolumes {
		// one that another container mounts by name stays, as dockerd keeps it
		if err := r.removeVolume(v); err != nil && !errdefs.IsConflict(err) {
			errs = append(errs, err)
		}
	}
	destroyed := eventOf(c, Event{Action: "destroy"}) // the container is gone when it is sent
	r.mu.Lock()
	delete(r.ctrs, c.id)
	r.mu.Unlock()
	c.mu.Unlock()
	r.emit(destroyed)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove container %s: %w", c.id, err)
	}
	return nil
}
