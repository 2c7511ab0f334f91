package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/errdefs"
)

// The tests of this file drive a jsonLog directly: entries of equal size with chosen times.

var logEpoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func entryTime(i int) time.Time { return logEpoch.Add(time.Duration(i) * time.Second) }

func entryLine(i int) string { return fmt.Sprintf("line %04d\n", i) }

// entrySize is the size in the file of every entry the tests write.
func entrySize(t *testing.T) int64 {
	b, err := json.Marshal(jsonLogEntry{Log: entryLine(0), Stream: "stdout", Time: entryTime(0)})
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(b) + 1)
}

func newTestLog(t *testing.T, p logPolicy) *jsonLog {
	t.Helper()
	l, err := openJSONLog(filepath.Join(t.TempDir(), "c-json.log"), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	return l
}

func writeEntries(t *testing.T, l *jsonLog, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := l.write("stdout", []byte(entryLine(i)), entryTime(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// fileEntries returns the entry numbers in a log file.
func fileEntries(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msgs, rest := decodeEntries(data)
	if len(rest) != 0 {
		t.Fatalf("%s ends with a partial line %q", path, rest)
	}
	return entryNumbers(t, msgs)
}

func entryNumbers(t *testing.T, msgs []*backend.LogMessage) []int {
	t.Helper()
	out := []int{}
	for _, m := range msgs {
		var n int
		if _, err := fmt.Sscanf(string(m.Line), "line %d\n", &n); err != nil {
			t.Fatalf("entry %q: %v", m.Line, err)
		}
		out = append(out, n)
	}
	return out
}

func span(from, to int) []int {
	out := []int{}
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// logFiles lists the files of the log's directory with their entries.
func logFiles(t *testing.T, l *jsonLog) map[string][]int {
	t.Helper()
	names, err := filepath.Glob(l.path + "*")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int{}
	for _, n := range names {
		out[strings.TrimPrefix(n, l.path)] = fileEntries(t, n)
	}
	return out
}

func TestJSONLogRotation(t *testing.T) {
	e := entrySize(t)
	tests := []struct {
		name    string
		maxSize int64
		files   int
		entries int
		want    map[string][]int // suffix of the file name -> entries
	}{
		{name: "no limit", maxSize: -1, files: 1, entries: 10, want: map[string][]int{"": span(0, 10)}},
		{name: "no limit ignores max-file", maxSize: -1, files: 3, entries: 10, want: map[string][]int{"": span(0, 10)}},
		{name: "under the size", maxSize: 100 * e, files: 3, entries: 10, want: map[string][]int{"": span(0, 10)}},
		// Rotation happens before a write that finds the file at max-size or more, so with
		// max-size 2e+1 a file holds three entries (ending one entry past max-size).
		{name: "one file is replaced", maxSize: 2*e + 1, files: 1, entries: 10, want: map[string][]int{"": {9}}},
		{name: "two files", maxSize: 2*e + 1, files: 2, entries: 10, want: map[string][]int{"": {9}, ".1": {6, 7, 8}}},
		{name: "three files", maxSize: 2*e + 1, files: 3, entries: 10, want: map[string][]int{"": {9}, ".1": {6, 7, 8}, ".2": {3, 4, 5}}},
		{name: "fewer files than allowed", maxSize: 2*e + 1, files: 9, entries: 10, want: map[string][]int{"": {9}, ".1": {6, 7, 8}, ".2": {3, 4, 5}, ".3": {0, 1, 2}}},
		{name: "exactly max-size", maxSize: 3 * e, files: 3, entries: 9, want: map[string][]int{"": {6, 7, 8}, ".1": {3, 4, 5}, ".2": {0, 1, 2}}},
		{name: "next write rotates", maxSize: 3 * e, files: 3, entries: 10, want: map[string][]int{"": {9}, ".1": {6, 7, 8}, ".2": {3, 4, 5}}},
		{name: "entries larger than max-size", maxSize: 1, files: 3, entries: 5, want: map[string][]int{"": {4}, ".1": {3}, ".2": {2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t, logPolicy{maxSize: tt.maxSize, maxFiles: tt.files})
			writeEntries(t, l, 0, tt.entries)
			got := logFiles(t, l)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("files %v, want %v", got, tt.want)
			}
		})
	}
}

// A log opened again (a new Runtime adopting the container) goes on from the file's size.
func TestJSONLogReopenKeepsRotating(t *testing.T) {
	e := entrySize(t)
	p := logPolicy{maxSize: 2*e + 1, maxFiles: 3}
	l := newTestLog(t, p)
	writeEntries(t, l, 0, 5) // "": 3 4; ".1": 0 1 2
	l.close()
	if err := l.write("stdout", []byte(entryLine(99)), entryTime(99)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	l2, err := openJSONLog(l.path, p)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.close()
	writeEntries(t, l2, 5, 8)
	want := map[string][]int{"": {6, 7}, ".1": {3, 4, 5}, ".2": {0, 1, 2}}
	if got := logFiles(t, l2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files %v, want %v", got, want)
	}
}

func readAll(t *testing.T, l *jsonLog, opts LogOptions) []int {
	t.Helper()
	ch, err := streamLog(testCtx(t), l, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return entryNumbers(t, collectMessages(t, ch))
}

func collectMessages(t *testing.T, ch <-chan *backend.LogMessage) []*backend.LogMessage {
	t.Helper()
	var out []*backend.LogMessage
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return out
			}
			if m.Err != nil {
				t.Fatal(m.Err)
			}
			out = append(out, m)
		case <-timeout:
			t.Fatalf("log stream did not end; got %d messages", len(out))
		}
	}
}

func TestLogsReadAcrossRotatedFiles(t *testing.T) {
	e := entrySize(t)
	l := newTestLog(t, logPolicy{maxSize: 2*e + 1, maxFiles: 4})
	writeEntries(t, l, 0, 14) // "": 12 13; ".1": 9-11; ".2": 6-8; ".3": 3-5
	both := LogOptions{Stdout: true, Stderr: true, Tail: -1}
	with := func(f func(*LogOptions)) LogOptions { o := both; f(&o); return o }
	tests := []struct {
		name string
		opts LogOptions
		want []int
	}{
		{"all, oldest first", both, span(3, 14)},
		{"tail in the current file", with(func(o *LogOptions) { o.Tail = 2 }), []int{12, 13}},
		{"tail across files", with(func(o *LogOptions) { o.Tail = 7 }), span(7, 14)},
		{"tail of more than there is", with(func(o *LogOptions) { o.Tail = 100 }), span(3, 14)},
		{"tail 0", with(func(o *LogOptions) { o.Tail = 0 }), []int{}},
		{"since in a rotated file", with(func(o *LogOptions) { o.Since = entryTime(5) }), span(5, 14)},
		{"since between entries", with(func(o *LogOptions) { o.Since = entryTime(9).Add(-time.Millisecond) }), span(9, 14)},
		{"until in a rotated file", with(func(o *LogOptions) { o.Until = entryTime(7) }), span(3, 8)},
		{"since and until", with(func(o *LogOptions) { o.Since, o.Until = entryTime(8), entryTime(10) }), []int{8, 9, 10}},
		{"tail then since", with(func(o *LogOptions) { o.Tail, o.Since = 4, entryTime(5) }), span(10, 14)},
		{"stderr only", with(func(o *LogOptions) { o.Stdout = false }), []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readAll(t, l, tt.opts); !slices.Equal(got, tt.want) {
				t.Fatalf("entries %v, want %v", got, tt.want)
			}
		})
	}
}

// The cursor, step by step: what next returns after one, several, and too many rotations.
func TestLogCursorFollowsRotations(t *testing.T) {
	e := entrySize(t)
	tests := []struct {
		name  string
		files int
		write int // entries written between reads
		want  []int
	}{
		{name: "no rotation", files: 2, write: 1, want: []int{3}},
		{name: "one rotation", files: 2, write: 3, want: []int{3, 4, 5}},
		{name: "one rotation, one file", files: 1, write: 3, want: []int{3, 4, 5}},
		// Rotations before entries 3, 6 and 9: the cursor's file is then <path>.3.
		{name: "three rotations, all kept", files: 5, write: 9, want: span(3, 12)},
		{name: "three rotations, one rotated file kept", files: 2, write: 9, want: span(6, 12)},
		{name: "three rotations, current only", files: 1, write: 9, want: span(9, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t, logPolicy{maxSize: 2*e + 1, maxFiles: tt.files})
			writeEntries(t, l, 0, 3) // one full file
			cur, err := openLogCursor(l)
			if err != nil {
				t.Fatal(err)
			}
			defer cur.close()
			msgs, err := cur.readTail(-1)
			if err != nil || !slices.Equal(entryNumbers(t, msgs), []int{0, 1, 2}) {
				t.Fatalf("first read %v %v", entryNumbers(t, msgs), err)
			}
			changed := cur.changed
			writeEntries(t, l, 3, 3+tt.write)
			select {
			case <-changed:
			default:
				t.Fatal("changed not closed by a write")
			}
			msgs, changed, err = cur.next()
			if err != nil {
				t.Fatal(err)
			}
			if got := entryNumbers(t, msgs); !slices.Equal(got, tt.want) {
				t.Fatalf("next %v, want %v", got, tt.want)
			}
			select {
			case <-changed:
				t.Fatal("changed closed without a write")
			default:
			}
			if msgs, _, err = cur.next(); err != nil || len(msgs) != 0 {
				t.Fatalf("next again: %d entries, %v", len(msgs), err)
			}
			writeEntries(t, l, 100, 101)
			if msgs, _, err = cur.next(); err != nil || !slices.Equal(entryNumbers(t, msgs), []int{100}) {
				t.Fatalf("after one more write: %v %v", entryNumbers(t, msgs), err)
			}
		})
	}
}

// A follower gets every entry once, in order, while the writer rotates under it: in lock step
// (at most one rotation between reads, which loses nothing even with one file) and racing (with
// enough files kept that nothing is deleted before it is read).
func TestLogsFollowAcrossRotation(t *testing.T) {
	e := entrySize(t)
	for _, files := range []int{1, 2} {
		t.Run(fmt.Sprintf("lock step, %d files", files), func(t *testing.T) {
			l := newTestLog(t, logPolicy{maxSize: 2*e + 1, maxFiles: files})
			writeEntries(t, l, 0, 2)
			exited := make(chan struct{})
			ch, err := streamLog(testCtx(t), l, LogOptions{Stdout: true, Tail: 1, Follow: true}, exited)
			if err != nil {
				t.Fatal(err)
			}
			next := func() int {
				t.Helper()
				select {
				case m := <-ch:
					if m == nil || m.Err != nil {
						t.Fatalf("message %+v", m)
					}
					return entryNumbers(t, []*backend.LogMessage{m})[0]
				case <-time.After(20 * time.Second):
					t.Fatal("no message")
				}
				return -1
			}
			if n := next(); n != 1 {
				t.Fatalf("tail 1 gave %d", n)
			}
			for i := 2; i < 30; i++ {
				writeEntries(t, l, i, i+1)
				if n := next(); n != i {
					t.Fatalf("followed %d, want %d", n, i)
				}
			}
			close(exited)
			if rest := collectMessages(t, ch); len(rest) != 0 {
				t.Fatalf("after exit: %d more", len(rest))
			}
		})
	}
	t.Run("racing writer", func(t *testing.T) {
		const n = 600 // 200 files of three entries, all kept
		l := newTestLog(t, logPolicy{maxSize: 2*e + 1, maxFiles: n / 2})
		exited := make(chan struct{})
		ch, err := streamLog(testCtx(t), l, LogOptions{Stdout: true, Tail: -1, Follow: true}, exited)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range n {
				_ = l.write("stdout", []byte(entryLine(i)), entryTime(i))
			}
		}()
		go func() { <-done; close(exited) }()
		if got := entryNumbers(t, collectMessages(t, ch)); !slices.Equal(got, span(0, n)) {
			t.Fatalf("followed %d entries, first missing or extra around %v", len(got), firstDiff(got, span(0, n)))
		}
		if files := len(logFiles(t, l)); files < n/4 {
			t.Fatalf("only %d files: the log did not rotate under the follower", files)
		}
	})
	t.Run("context ends a follow", func(t *testing.T) {
		l := newTestLog(t, logPolicy{maxSize: -1, maxFiles: 1})
		ctx, cancel := context.WithCancel(testCtx(t))
		ch, err := streamLog(ctx, l, LogOptions{Stdout: true, Tail: -1, Follow: true}, make(chan struct{}))
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		collectMessages(t, ch)
	})
}

func firstDiff(a, b []int) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("index %d: %d vs %d", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d", len(a), len(b))
}

func TestLogDriverNone(t *testing.T) {
	dir := t.TempDir()
	l, err := openJSONLog(filepath.Join(dir, "c-json.log"), logPolicy{none: true, maxSize: -1, maxFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	writeEntries(t, l, 0, 3)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || l.path != "" {
		t.Fatalf("driver none wrote files %v (path %q)", entries, l.path)
	}
	_, err = streamLog(testCtx(t), l, LogOptions{Stdout: true, Tail: -1}, nil)
	if err == nil || err.Error() != "configured logging driver does not support reading" || !errdefs.IsNotImplemented(err) {
		t.Fatalf("reading a none log: %v", err)
	}
}
