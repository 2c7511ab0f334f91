package container

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
)

// jsonLog is a container's log in Docker's json-file format, one JSON object a line:
// {"log":"line\n","stream":"stdout","time":"2006-01-02T15:04:05.999999999Z"}.
//
// With a max size the log is a set of files, as dockerd's json-file driver keeps it: before
// a write finds the current file <path> holding max-size bytes or more, <path>.1 becomes
// <path>.2 and so on, <path> becomes <path>.1 and a new empty <path> is started; the file
// past max-file-1 is deleted. With max-file 1 the current file is deleted and started anew.
// A file thus ends at most one entry past max-size.
//
// For the driver "none" the log has no file and drops what is written.
type jsonLog struct {
	path   string // the current file; "" for the driver "none"
	policy logPolicy

	mu       sync.Mutex
	f        *os.File
	closed   bool
	size     int64         // bytes in the current file
	rotation uint64        // rotations since this jsonLog was opened
	changed  chan struct{} // closed and replaced after every write
}

type jsonLogEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// openJSONLog opens (or creates) the log at path; for policy.none it opens nothing.
func openJSONLog(path string, policy logPolicy) (*jsonLog, error) {
	l := &jsonLog{policy: policy, changed: make(chan struct{})}
	if policy.none {
		return l, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	l.path, l.f, l.size = path, f, fi.Size()
	return l, nil
}

// rotatedPath is the name of the i-th newest rotated file (i >= 1).
func (l *jsonLog) rotatedPath(i int) string {
	return fmt.Sprintf("%s.%d", l.path, i)
}

// write appends one entry; line is one line of output with its newline, or a part of a
// longer line without it.
func (l *jsonLog) write(stream string, line []byte, t time.Time) error {
	if l.policy.none {
		return nil
	}
	b, err := json.Marshal(jsonLogEntry{Log: string(line), Stream: stream, Time: t.UTC()})
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return os.ErrClosed
	}
	if l.f == nil { // an earlier rotation could not open the new file: try again
		if l.f, err = os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640); err != nil {
			return err
		}
	}
	if l.policy.maxSize > 0 && l.size >= l.policy.maxSize {
		if err := l.rotate(); err != nil && l.f == nil {
			return err
		}
	}
	n, err := l.f.Write(b)
	l.size += int64(n)
	close(l.changed)
	l.changed = make(chan struct{})
	return err
}

// rotate moves the current file out of the way and starts a new one; l.mu is held. Readers
// that hold a moved file open go on reading it (see logCursor).
func (l *jsonLog) rotate() error {
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
	var errs []error
	if n := l.policy.maxFiles; n >= 2 {
		if err := os.Remove(l.rotatedPath(n - 1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		for i := n - 1; i > 1; i-- {
			if err := os.Rename(l.rotatedPath(i-1), l.rotatedPath(i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if err := os.Rename(l.path, l.rotatedPath(1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	} else if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	// O_TRUNC in case the file could not be moved: the log then starts again rather than grow.
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		errs = append(errs, err)
	} else {
		l.f = f
	}
	l.size = 0
	l.rotation++
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("error rotating log file: %w", err)
	}
	return nil
}

// changedCh returns a channel closed at the next write.
func (l *jsonLog) changedCh() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

func (l *jsonLog) close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

// maxLogLine is where long lines are cut into several entries, as Docker does (16 KiB).
const maxLogLine = 16 * 1024

// copyStream copies one output stream of a container into the log until EOF (all writers
// gone) or until the reader is closed. Lines are stamped with the time they are read.
func copyStream(l *jsonLog, stream string, rd io.Reader) {
	br := bufio.NewReaderSize(rd, maxLogLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			_ = l.write(stream, line, time.Now())
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return
		}
	}
}
