package routes

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/docker/pkg/streamformatter"
)

// flushWriter writes a streamed response: each Write goes to the client at once. It starts the
// response (status 200) on the first Write, so a handler can still return an error when nothing has
// been written yet.
type flushWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

// newFlushWriter also lifts the server's write deadline: a stream lasts as long as it needs.
func newFlushWriter(w http.ResponseWriter) *flushWriter {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	return &flushWriter{w: w, rc: rc}
}

// start sends the status line and headers now.
func (f *flushWriter) start() {
	if f.started {
		return
	}
	f.started = true
	f.w.WriteHeader(http.StatusOK)
	_ = f.rc.Flush()
}

func (f *flushWriter) Write(b []byte) (int, error) {
	f.started = true
	n, err := f.w.Write(b)
	if err == nil {
		err = f.rc.Flush()
	}
	return n, err
}

// end finishes a progress stream with the backend's error: an ordinary error response while nothing
// has been written, else a JSON error message that ends the stream, as dockerd does.
func (f *flushWriter) end(err error) error {
	if err == nil {
		return nil
	}
	if !f.started {
		return err
	}
	_, _ = f.Write(streamformatter.FormatError(err))
	return nil
}

// rfc3339NanoFixed is RFC3339Nano with zero-padded nanoseconds, the log timestamp format.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

// logsOptions reads the query of the log endpoints. Both stdout and stderr unset is an error whose
// class differs by endpoint in dockerd, so the caller builds it.
func logsOptions(r *http.Request) container.LogsOptions {
	return container.LogsOptions{
		ShowStdout: boolValue(r, "stdout"),
		ShowStderr: boolValue(r, "stderr"),
		Follow:     boolValue(r, "follow"),
		Timestamps: boolValue(r, "timestamps"),
		Since:      r.Form.Get("since"),
		Until:      r.Form.Get("until"),
		Tail:       r.Form.Get("tail"),
		Details:    boolValue(r, "details"),
	}
}

const errNoStream = "Bad parameters: you must choose at least one stream"

// streamContentType is multiplexed for API >= 1.42 without a TTY, raw otherwise (logs, exec).
func (s *server) streamContentType(r *http.Request, tty bool) string {
	if !tty && versions.GreaterThanOrEqualTo(s.apiVersion(r), "1.42") {
		return types.MediaTypeMultiplexedStream
	}
	return types.MediaTypeRawStream
}

// writeLogStream sends log messages until msgs closes or the client goes away, framed with stdcopy
// unless the source is a TTY. Each line is "[timestamp ][k=v,k=v ]line". A message carrying Err is sent
// on the system-error stream and the stream goes on. This is the point of no return: the response
// status is 200 from here on.
func writeLogStream(ctx context.Context, w http.ResponseWriter, msgs <-chan *backend.LogMessage, opts container.LogsOptions, mux bool) {
	fw := newFlushWriter(w)
	fw.start()
	out, errOut, sysErr := io.Writer(fw), io.Writer(fw), io.Writer(fw)
	if mux {
		out = stdcopy.NewStdWriter(fw, stdcopy.Stdout)
		errOut = stdcopy.NewStdWriter(fw, stdcopy.Stderr)
		sysErr = stdcopy.NewStdWriter(fw, stdcopy.Systemerr)
	}
	for {
		var msg *backend.LogMessage
		var ok bool
		select {
		case msg, ok = <-msgs:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		if msg == nil {
			continue
		}
		if msg.Err != nil {
			_, _ = fmt.Fprintf(sysErr, "Error grabbing logs: %v\n", msg.Err)
			continue
		}
		line := formatLogLine(msg, opts)
		var err error
		switch {
		case msg.Source == "stdout" && opts.ShowStdout:
			_, err = out.Write(line)
		case msg.Source == "stderr" && opts.ShowStderr:
			_, err = errOut.Write(line)
		}
		if err != nil {
			return
		}
	}
}

// formatLogLine prefixes a log line with its attributes (details) and timestamp as requested.
func formatLogLine(msg *backend.LogMessage, opts container.LogsOptions) []byte {
	line := msg.Line
	if opts.Details {
		line = append([]byte(formatLogAttrs(msg.Attrs)+" "), msg.Line...)
	}
	if opts.Timestamps {
		line = append([]byte(msg.Timestamp.Format(rfc3339NanoFixed)+" "), line...)
	}
	return line
}

// formatLogAttrs renders details as k=v pairs sorted by key, keys and values query-escaped.
func formatLogAttrs(attrs []backend.LogAttr) string {
	sorted := slices.Clone(attrs)
	slices.SortStableFunc(sorted, func(a, b backend.LogAttr) int { return strings.Compare(a.Key, b.Key) })
	parts := make([]string, len(sorted))
	for i, a := range sorted {
		parts[i] = url.QueryEscape(a.Key) + "=" + url.QueryEscape(a.Value)
	}
	return strings.Join(parts, ",")
}
