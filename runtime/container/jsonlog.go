package container

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// jsonLog is a container's log file in Docker's json-file format, one JSON object a line:
// {"log":"line\n","stream":"stdout","time":"2006-01-02T15:04:05.999999999Z"}.
type jsonLog struct {
	path string

	mu      sync.Mutex
	f       *os.File
	changed chan struct{} // closed and replaced after every write
}

type jsonLogEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

func openJSONLog(path string) (*jsonLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	return &jsonLog{path: path, f: f, changed: make(chan struct{})}, nil
}

// write appends one entry; line is one line of output with its newline, or a part of a
// longer line without it.
func (l *jsonLog) write(stream string, line []byte, t time.Time) error {
	b, err := json.Marshal(jsonLogEntry{Log: string(line), Stream: stream, Time: t.UTC()})
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return os.ErrClosed
	}
	_, err = l.f.Write(b)
	close(l.changed)
	l.changed = make(chan struct{})
	return err
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
