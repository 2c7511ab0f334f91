package container

import (
	"errors"
	"fmt"

	"github.com/docker/docker/errdefs"
)

// Pause freezes every process of a running container (libcontainer's freezer), as `docker pause`.
// Errors, with dockerd's texts: not running (errdefs.Conflict "container <id> is not running"),
// already paused (errdefs.Conflict "Container <id> is already paused").
func (r *Runtime) Pause(ref string) error {
	c, err := r.lookup(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	rn, ok := c.running()
	if !ok {
		c.mu.Unlock()
		return errNotRunning(c.id)
	}
	if c.meta.State.Paused {
		c.mu.Unlock()
		return errdefs.Conflict(fmt.Errorf("Container %s is already paused", c.id))
	}
	if rn.lc == nil {
		c.mu.Unlock()
		return fmt.Errorf("cannot pause container %s: no runtime state", c.id)
	}
	if err := rn.lc.Pause(); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("cannot pause container %s: %s", c.id, err)
	}
	c.meta.State.Paused = true
	if err := c.save(); err != nil {
		r.log.Warn("save container state", "id", c.id, "err", err)
	}
	c.mu.Unlock()
	r.emit(Event{ID: c.id, Action: "pause"})
	return nil
}

// Unpause thaws a paused container, as `docker unpause`. A container that is not paused gives
// dockerd's unclassified "Container <id> is not paused".
func (r *Runtime) Unpause(ref string) error {
	c, err := r.lookup(ref)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if !c.meta.State.Paused {
		c.mu.Unlock()
		return fmt.Errorf("Container %s is not paused", c.id)
	}
	rn, ok := c.running()
	if !ok {
		c.mu.Unlock()
		return errNotRunning(c.id)
	}
	if rn.lc == nil {
		c.mu.Unlock()
		return errors.New("Cannot unpause container " + c.id + ": no runtime state")
	}
	if err := rn.lc.Resume(); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("Cannot unpause container %s: %s", c.id, err)
	}
	c.meta.State.Paused = false
	if err := c.save(); err != nil {
		r.log.Warn("save container state", "id", c.id, "err", err)
	}
	c.mu.Unlock()
	r.emit(Event{ID: c.id, Action: "unpause"})
	return nil
}
