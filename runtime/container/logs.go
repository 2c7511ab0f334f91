package container

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/docker/docker/api/types/backend"
)

// LogOptions select what Logs returns. The timestamps are always in the messages; formatting
// them (docker logs --timestamps) is the caller's business.
type LogOptions struct {
	Stdout, Stderr bool
	Follow         bool      // go on until the container stops or ctx ends
	Tail           int       // the last Tail entries of the file; < 0 for all
	Since, Until   time.Time // zero for no bound
}

// Logs streams a container's log entries. The channel is closed at the end of the log (or, with
// Follow, when the running container exits) and when ctx ends. Line holds the output with its
// newline; Source is "stdout" or "stderr".
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
	path := c.logs.path
	c.mu.Unlock()

	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	out := make(chan *backend.LogMessage, 64)
	go func() {
		defer close(out)
		defer f.Close()
		lr := &logReader{f: f, opts: opts}
		send := func(m *backend.LogMessage) bool {
			select {
			case out <- m:
				return true
			case <-ctx.Done():
				return false
			}
		}
		changed := c.logs.changedCh()
		msgs, err := lr.readAvailable()
		if err != nil {
			send(&backend.LogMessage{Err: err})
			return
		}
		if opts.Tail >= 0 && len(msgs) > opts.Tail {
			msgs = msgs[len(msgs)-opts.Tail:]
		}
		for {
			for _, m := range msgs {
				if !opts.Until.IsZero() && m.Timestamp.After(opts.Until) {
					return
				}
				if !lr.keep(m) {
					continue
				}
				if !send(m) {
					return
				}
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
			changed = c.logs.changedCh()
			if msgs, err = lr.readAvailable(); err != nil {
				send(&backend.LogMessage{Err: err})
				return
			}
		}
	}()
	return out, nil
}

// logReader decodes json-file entries, keeping an incomplete last line for the next read.
type logReader struct {
	f       *os.File
	opts    LogOptions
	pending []byte
}

func (lr *logReader) readAvailable() ([]*backend.LogMessage, error) {
	data, err := io.ReadAll(lr.f)
	if err != nil {
		return nil, err
	}
	data = append(lr.pending, data...)
	var msgs []*backend.LogMessage
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := data[:i]
		data = data[i+1:]
		var e jsonLogEntry
		if err := json.Unmarshal(line, &e); err != nil {
			continue // a damaged line; Docker skips them too
		}
		msgs = append(msgs, &backend.LogMessage{Line: []byte(e.Log), Source: e.Stream, Timestamp: e.Time})
	}
	lr.pending = append([]byte(nil), data...)
	return msgs, nil
}

func (lr *logReader) keep(m *backend.LogMessage) bool {
	if m.Source == "stdout" && !lr.opts.Stdout || m.Source == "stderr" && !lr.opts.Stderr {
		return false
	}
	return lr.opts.Since.IsZero() || !m.Timestamp.Before(lr.opts.Since)
}
