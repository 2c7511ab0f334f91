package container

import (
	"maps"
	"time"
)

// describe fills in what an event says about its container (name, image, labels and, for
// "die", how long it ran) from the container it names. c.mu must not be held; a container that
// is gone leaves the event as it is (see eventOf for events sent while the lock is held).
func (r *Runtime) describe(ev *Event) {
	r.mu.Lock()
	c := r.ctrs[ev.ID]
	r.mu.Unlock()
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	*ev = eventOf(c, *ev)
}

// eventOf is ev with the container's name, image and labels; c.mu is held. For "die" it
// also sets ExecDuration from the last run's start and end.
func eventOf(c *ctr, ev Event) Event {
	ev.ID = c.id
	ev.Name = c.name
	ev.Image = c.meta.Spec.Image
	ev.Labels = maps.Clone(c.meta.Spec.Labels)
	if ev.Action == "die" {
		ev.ExecDuration = runDuration(c.meta.State.StartedAt, c.meta.State.FinishedAt)
	}
	return ev
}

// runDuration is how long a run lasted, 0 when either end is unknown.
func runDuration(started, finished time.Time) time.Duration {
	if started.IsZero() || finished.IsZero() || finished.Before(started) {
		return 0
	}
	return finished.Sub(started)
}

// emitLocked sends an event about c while c.mu is held, so that it comes before the events
// of whatever waits for the lock (a "kill" before the "die" it causes).
func (r *Runtime) emitLocked(c *ctr, ev Event) {
	if r.opts.OnEvent == nil {
		return
	}
	ev = eventOf(c, ev)
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	r.opts.OnEvent(ev)
}
