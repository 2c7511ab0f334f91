package routes

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

func TestFormatLogLine(t *testing.T) {
	ts := time.Date(2026, 5, 6, 7, 8, 9, 1000, time.UTC)
	attrs := []backend.LogAttr{{Key: "z", Value: "1"}, {Key: "a b", Value: "x,y=z&"}, {Key: "m", Value: ""}}
	tests := []struct {
		name string
		opts container.LogsOptions
		want string
	}{
		{"plain", container.LogsOptions{}, "hello\n"},
		{"timestamps", container.LogsOptions{Timestamps: true}, "2026-05-06T07:08:09.000001000Z hello\n"},
		{"details sorted and escaped", container.LogsOptions{Details: true}, "a+b=x%2Cy%3Dz%26,m=,z=1 hello\n"},
		{"both", container.LogsOptions{Details: true, Timestamps: true}, "2026-05-06T07:08:09.000001000Z a+b=x%2Cy%3Dz%26,m=,z=1 hello\n"},
	}
	for _, tt := range tests {
		msg := &backend.LogMessage{Line: []byte("hello\n"), Timestamp: ts, Attrs: attrs}
		if got := string(formatLogLine(msg, tt.opts)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		if string(msg.Line) != "hello\n" || attrs[0].Key != "z" {
			t.Errorf("%s: the message was modified", tt.name)
		}
	}
	if got := formatLogAttrs(nil); got != "" {
		t.Errorf("no attrs: %q", got)
	}
}

func TestWriteLogStream(t *testing.T) {
	msgs := make(chan *backend.LogMessage, 4)
	msgs <- &backend.LogMessage{Source: "stdout", Line: []byte("out\n")}
	msgs <- &backend.LogMessage{Source: "stderr", Line: []byte("err\n")}
	msgs <- &backend.LogMessage{Err: io.ErrUnexpectedEOF}
	msgs <- &backend.LogMessage{Source: "stdout", Line: []byte("after\n")}
	close(msgs)
	rec := httptest.NewRecorder()
	writeLogStream(context.Background(), rec, msgs, container.LogsOptions{ShowStdout: true}, true)
	var out, errOut bytes.Buffer
	_, err := stdcopy.StdCopy(&out, &errOut, rec.Body)
	// The system-error frame surfaces as an error; stderr was not asked for.
	if err == nil || !strings.Contains(err.Error(), "Error grabbing logs: unexpected EOF") {
		t.Errorf("StdCopy error %v", err)
	}
	if out.String() != "out\n" || errOut.Len() != 0 || rec.Code != 200 {
		t.Errorf("out %q err %q code %d", out.String(), errOut.String(), rec.Code)
	}
}

// logRecorder keeps the records of a slog.Logger.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func TestRequestLogging(t *testing.T) {
	rec := &logRecorder{}
	_, cfg := newTestEnvConfig()
	cfg.Logger = slog.New(rec)
	h := New(cfg)
	serveOnce(h, "GET", "/v1.41/services/nope", "", "")
	serveOnce(h, "GET", "/v1.41/services", "", "")
	var lines []string
	for _, r := range rec.records {
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		if r.Message == "api request" {
			if r.Level != slog.LevelDebug {
				t.Errorf("level %v", r.Level)
			}
			lines = append(lines, attrs["method"]+" "+attrs["path"]+" "+attrs["status"])
		}
	}
	if strings.Join(lines, "|") != "GET /v1.41/services/nope 404|GET /v1.41/services 200" {
		t.Errorf("logged %v", lines)
	}
}
