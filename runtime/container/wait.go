package container

import (
	"context"
	"time"
)

// Wait conditions, with Docker's names (POST /containers/{id}/wait?condition=).
const (
	WaitNotRunning = "not-running"
	WaitNextExit   = "next-exit"
	WaitRemoved    = "removed"
)

// waitPoll is how often WaitFor looks for a new run or the removal of a container.
const waitPoll = 100 * time.Millisecond

// WaitFor blocks until the condition holds and returns the container's exit code then:
// WaitNotRunning at once for a container that does not run, else at its exit (as Wait);
// WaitNextExit at the end of the current run, or of the next one for a container that does not
// run now; WaitRemoved once the container is gone (its exit code is the last one it had).
// The reference is resolved once, at the call; a missing container is errdefs.NotFound.
func (r *Runtime) WaitFor(ctx context.Context, ref, condition string) (exitCode int, err error) {
	c, err := r.lookup(ref)
	if err != nil {
		return 0, err
	}
	switch condition {
	case WaitNextExit:
		return r.waitNextExit(ctx, c)
	case WaitRemoved:
		return r.waitRemoved(ctx, c)
	}
	code, _, err := r.Wait(ctx, c.id)
	return code, err
}

// waitNextExit waits for the exit of the current run, or of the first run that starts from now.
func (r *Runtime) waitNextExit(ctx context.Context, c *ctr) (int, error) {
	c.mu.Lock()
	rn, running := c.running()
	last := c.run
	c.mu.Unlock()
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	for !running {
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-t.C:
		}
		c.mu.Lock()
		if c.run != last && c.run != nil {
			rn, running = c.run, true
		}
		gone := c.removing
		code := c.meta.State.ExitCode
		c.mu.Unlock()
		if gone && !running {
			return code, nil
		}
	}
	if err := waitExited(ctx, rn); err != nil {
		return -1, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta.State.ExitCode, nil
}

// waitRemoved waits until c is no longer among the Runtime's containers.
func (r *Runtime) waitRemoved(ctx context.Context, c *ctr) (int, error) {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	for {
		r.mu.Lock()
		cur, present := r.ctrs[c.id]
		r.mu.Unlock()
		if !present || cur != c {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.meta.State.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-t.C:
		}
	}
}
