package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/docker/docker/api/types/backend"
)

// logCursor reads a jsonLog's entries in order across its files and its rotations.
//
// A rotation renames or deletes files but never changes one that a reader holds open, so the
// cursor keeps reading the file that was current when it opened it. Files are opened with the
// log's lock held, so that what the cursor opens together is one consistent state of the log.
// When the cursor sees that the log rotated k times since it opened its file, that file is now
// <path>.k (or deleted): the cursor reads it to its end, then <path>.(k-1) ... <path>.1 (those
// still kept), then goes on in the new current file. Nothing is read twice, and nothing is
// missed unless more than max-file rotations happened between two reads (dockerd skips more).
//
// A cursor is used by one goroutine.
type logCursor struct {
	l        *jsonLog
	f        *os.File // the file that was current at rotation
	rotation uint64
	pending  []byte // an incomplete last line of f

	older   []*os.File    // rotated files, oldest first, until readTail
	changed chan struct{} // closed at the first write after the cursor was opened
}

// openLogCursor opens the log's rotated files and its current file.
func openLogCursor(l *jsonLog) (*logCursor, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := &logCursor{l: l, rotation: l.rotation, changed: l.changed}
	older, err := l.openRotated(l.policy.maxFiles - 1)
	if err != nil {
		return nil, err
	}
	if c.f, err = os.Open(l.path); err != nil {
		closeAll(older)
		return nil, err
	}
	c.older = older
	return c, nil
}

// openRotated opens <path>.n ... <path>.1, those that exist; l.mu is held.
func (l *jsonLog) openRotated(n int) ([]*os.File, error) {
	var out []*os.File
	for i := n; i >= 1; i-- {
		f, err := os.Open(l.rotatedPath(i))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

// readTail reads what the log holds now: the last tail entries (all if tail < 0), oldest
// first. The rotated files are read newest first and only as far as the tail needs.
func (c *logCursor) readTail(tail int) ([]*backend.LogMessage, error) {
	older := c.older
	c.older = nil
	defer closeAll(older)
	msgs, err := c.readRest()
	if err != nil {
		return nil, err
	}
	for i := len(older) - 1; i >= 0 && (tail < 0 || len(msgs) < tail); i-- {
		m, err := readWhole(older[i])
		if err != nil {
			return nil, err
		}
		msgs = append(m, msgs...)
	}
	if tail >= 0 && len(msgs) > tail {
		msgs = msgs[len(msgs)-tail:]
	}
	return msgs, nil
}

// next reads the entries written since the last read, following a rotation, and returns them
// with a channel closed at the next write.
func (c *logCursor) next() ([]*backend.LogMessage, chan struct{}, error) {
	l := c.l
	l.mu.Lock()
	changed := l.changed
	rotation := l.rotation
	var newer []*os.File
	var current *os.File
	var err error
	if rotation != c.rotation {
		k := rotation - c.rotation
		between := l.policy.maxFiles - 1 // the files after c.f still kept: <path>.(k-1) ... <path>.1
		if k-1 < uint64(between) {
			between = int(k - 1)
		}
		if newer, err = l.openRotated(between); err == nil {
			if current, err = os.Open(l.path); err != nil {
				closeAll(newer)
			}
		}
	}
	l.mu.Unlock()
	if err != nil {
		return nil, changed, err
	}

	msgs, err := c.readRest()
	if err != nil || current == nil {
		closeAll(newer)
		if current != nil {
			_ = current.Close()
		}
		return msgs, changed, err
	}
	// c.f is complete: the log has moved on to current.
	_ = c.f.Close()
	c.f, c.rotation, c.pending = current, rotation, nil
	for _, f := range newer {
		m, err := readWhole(f)
		msgs = append(msgs, m...)
		if err != nil {
			closeAll(newer)
			return msgs, changed, err
		}
	}
	closeAll(newer)
	m, err := c.readRest()
	return append(msgs, m...), changed, err
}

// readRest decodes the entries from c.f's offset to its end, keeping an incomplete last line
// for the next read (a write may be in progress).
func (c *logCursor) readRest() ([]*backend.LogMessage, error) {
	data, err := io.ReadAll(c.f)
	if err != nil {
		return nil, err
	}
	var msgs []*backend.LogMessage
	msgs, c.pending = decodeEntries(append(c.pending, data...))
	c.pending = append([]byte(nil), c.pending...)
	return msgs, nil
}

// readWhole decodes a complete (rotated) file.
func readWhole(f *os.File) ([]*backend.LogMessage, error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	msgs, _ := decodeEntries(data)
	return msgs, nil
}

// decodeEntries decodes the complete lines of data and returns the rest.
func decodeEntries(data []byte) (msgs []*backend.LogMessage, rest []byte) {
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return msgs, data
		}
		line := data[:i]
		data = data[i+1:]
		var e jsonLogEntry
		if err := json.Unmarshal(line, &e); err != nil {
			continue // a damaged line; Docker skips them too
		}
		msgs = append(msgs, &backend.LogMessage{Line: []byte(e.Log), Source: e.Stream, Timestamp: e.Time})
	}
}

func (c *logCursor) close() {
	closeAll(c.older)
	c.older = nil
	if c.f != nil {
		_ = c.f.Close()
	}
}
