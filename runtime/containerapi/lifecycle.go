package containerapi

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"
)

// killWait bounds the wait for a container to exit after SIGKILL.
const killWait = 10 * time.Second

// ContainerKill sends a signal (a name like "HUP" or "SIGHUP", or a number; default SIGKILL) to
// the container's first process. With SIGKILL it also waits for the container to exit, as dockerd.
func (b *Backend) ContainerKill(ctx context.Context, name string, signal string) error {
	sig := syscall.SIGKILL
	if signal != "" {
		s, err := container.ParseSignal(signal)
		if err != nil {
			return err
		}
		sig = s
	}
	c, err := b.get(name)
	if err != nil {
		return err
	}
	if err := b.rt.Kill(c.ID, sig); err != nil {
		return err
	}
	if sig != syscall.SIGKILL {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, killWait)
	defer cancel()
	if _, _, err := b.rt.Wait(wctx, c.ID); err != nil && ctx.Err() == nil {
		return fmt.Errorf("container %s did not exit within %v of SIGKILL", c.ID, killWait)
	}
	return nil
}

// errNotModified is the answer to stopping a container that is not running (304).
var errNotModified = errdefs.NotModified(errors.New("container already stopped"))

// ContainerStop stops a running container: its stop signal (or signal), then SIGKILL once
// timeoutSeconds (default: the container's stop grace period; -1: no limit) have passed.
// A container that is not running gives errdefs.NotModified.
func (b *Backend) ContainerStop(ctx context.Context, name string, timeoutSeconds *int, signal string) error {
	c, err := b.get(name)
	if err != nil {
		return err
	}
	if c.State.Status != container.StatusRunning {
		return errNotModified
	}
	if err := b.stop(ctx, c, timeoutSeconds, signal); err != nil {
		return err
	}
	b.rt.Stopped(c.ID)
	return nil
}

// stop is the stop sequence of a running container.
func (b *Backend) stop(ctx context.Context, c *container.Container, timeoutSeconds *int, signal string) error {
	sigName := signal
	if sigName == "" {
		sigName = c.Spec.StopSignal
	}
	sig := syscall.SIGTERM
	if sigName != "" {
		s, err := container.ParseSignal(sigName)
		if err != nil {
			return err
		}
		sig = s
	}
	grace := c.Spec.StopGracePeriod
	if grace <= 0 {
		grace = 10 * time.Second
	}
	forever := false
	if timeoutSeconds != nil {
		grace = time.Duration(*timeoutSeconds) * time.Second
		forever = *timeoutSeconds < 0
	}
	if err := b.rt.Kill(c.ID, sig); err != nil {
		if errors.Is(err, container.ErrNotRunning) {
			return nil
		}
		return err
	}
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if !forever {
		wctx, cancel = context.WithTimeout(ctx, grace)
	}
	_, _, err := b.rt.Wait(wctx, c.ID)
	cancel()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := b.rt.Kill(c.ID, syscall.SIGKILL); err != nil && !errors.Is(err, container.ErrNotRunning) {
		return err
	}
	kctx, cancel := context.WithTimeout(ctx, killWait)
	defer cancel()
	if _, _, err := b.rt.Wait(kctx, c.ID); err != nil {
		return fmt.Errorf("container %s did not exit within %v of SIGKILL", c.ID, killWait)
	}
	return nil
}

// ContainerRestart stops the container if it runs, then starts it again.
func (b *Backend) ContainerRestart(ctx context.Context, name string, timeoutSeconds *int, signal string) error {
	c, err := b.get(name)
	if err != nil {
		return err
	}
	if c.State.Status == container.StatusRunning {
		if err := b.stop(ctx, c, timeoutSeconds, signal); err != nil {
			return err
		}
		b.rt.Stopped(c.ID)
	}
	if err := b.rt.Start(ctx, c.ID); err != nil && !errdefs.IsNotModified(err) {
		return err
	}
	b.rt.Restarted(c.ID)
	return nil
}

// ContainerRemove removes a container; a running one only with force (it is killed). Anonymous
// volumes go with the container; named ones stay.
func (b *Backend) ContainerRemove(ctx context.Context, name string, force, removeVolumes bool) error {
	c, err := b.get(name)
	if err != nil {
		return err
	}
	if c.State.Status == container.StatusRunning && !force {
		return errdefs.Conflict(fmt.Errorf("cannot remove container %q: container is running: stop the container before removing or force remove", name))
	}
	b.execs.forgetContainer(c.ID)
	if err := b.rt.Delete(c.ID); err != nil {
		if errdefs.IsNotFound(err) {
			return err
		}
		return fmt.Errorf("cannot remove container %q: %w", name, err)
	}
	return nil
}
