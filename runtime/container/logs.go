package container

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/backend"
)

// LogOptions select what Logs returns. The timestamps are always in the messages; formatting
// them (docker logs --timestamps) is the caller's business.
type LogOptions struct {
	Stdout, Stderr bool
	Follow         bool      // go on until the container stops or ctx ends
	Tail           int       // the last Tail entries of the log (both streams); < 0 for all
	Since, Until   time.Time // zero for no bound
}

// Logs streams a container's log entries, oldest first and across the rotated files of the
// log. The channel is closed at the end of the log (or, with Follow, when the running container
// exits) and when ctx ends. Line holds the output with its newline; Source is "stdout" or
// "stderr". A container with the log driver "none" has no log: errdefs.NotImplemented with
// dockerd's text.
func (r *Runtime) Logs(ctx context.Context, ref string, opts LogOptions) (<-chan *backend.LogMessage, error) {
	if !opts.Stdout && !opts.Stderr {
		return nil, invalidf("Bad parameters: you must choose at least one stream")
	}
	c, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	var exited <-chan struct{}
	if rn, ok := c.running(); ok && opts.Follow {
		exited = rn.exited
	}
	logs := c.logs
	c.mu.Unlock()
	return streamLog(ctx, logs, opts, exited)
}

// streamLog reads l as Logs describes; with a non-nil exited it follows l until exited is
// closed. The files are opened before it returns, so the stream starts from the log as it is
// now.
func streamLog(ctx context.Context, l *jsonLog, opts LogOptions, exited <-chan struct{}) (<-chan *backend.LogMessage, error) {
	if l.policy.none {
		return nil, errReadLogsNotSupported
	}
	cur, err := openLogCursor(l)
	if err != nil {
		return nil, err
	}
	out := make(chan *backend.LogMessage, 64)
	go func() {
		defer close(out)
		defer cur.close()
		send := func(m *backend.LogMessage) bool {
			select {
			case out <- m:
				return true
			case <-ctx.Done():
				return false
			}
		}
		f := logFilter{opts: opts, since: opts.Since}
		changed := cur.changed
		msgs, err := cur.readTail(opts.Tail)
		for {
			for _, m := range msgs {
				keep, more := f.pass(m)
				if !more {
					return
				}
				if keep && !send(m) {
					return
				}
			}
			if err != nil {
				send(&backend.LogMessage{Err: err})
				return
			}
			if exited == nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-exited:
				exited = nil // read what is left, then stop
			}
			msgs, changed, err = cur.next()
		}
	}()
	return out, nil
}

// logFilter applies the stream choice and the time bounds, as dockerd's log forwarder does:
// once an entry at or after Since has been seen, later ones are not checked against it (the
// times of the two streams' entries need not be in order).
type logFilter struct {
	opts  LogOptions
	since time.Time
}

// pass reports whether m is to be sent and whether the stream goes on (false once an entry is
// after Until).
func (f *logFilter) pass(m *backend.LogMessage) (keep, more bool) {
	if !f.since.IsZero() {
		if m.Timestamp.Before(f.since) {
			return false, true
		}
		f.since = time.Time{}
	}
	if !f.opts.Until.IsZero() && m.Timestamp.After(f.opts.Until) {
		return false, false
	}
	if m.Source == "stdout" && !f.opts.Stdout || m.Source == "stderr" && !f.opts.Stderr {
		return false, true
	}
	return true, true
}
