package routes

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/errdefs"
)

func TestStatusFromError(t *testing.T) {
	base := errors.New("boom")
	_, badFilter := filters.FromJSON("{")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"plain", base, 500},
		{"not found", errdefs.NotFound(base), 404},
		{"invalid parameter", errdefs.InvalidParameter(base), 400},
		{"conflict", errdefs.Conflict(base), 409},
		{"unauthorized", errdefs.Unauthorized(base), 401},
		{"unavailable", errdefs.Unavailable(base), 503},
		{"forbidden", errdefs.Forbidden(base), 403},
		{"not modified", errdefs.NotModified(base), 304},
		{"not implemented", errdefs.NotImplemented(base), 501},
		{"system", errdefs.System(base), 500},
		{"unknown", errdefs.Unknown(base), 500},
		{"wrapped with %w", fmt.Errorf("lookup: %w", errdefs.NotFound(base)), 404},
		{"outermost class wins", errdefs.InvalidParameter(errdefs.NotFound(base)), 400},
		{"containerd sentinel", fmt.Errorf("x: %w", cerrdefs.ErrNotFound), 404},
		{"context canceled", context.Canceled, 500},
		{"joined", errors.Join(base, errdefs.Conflict(base)), 409},
		{"filters package", badFilter, 400},
		{"version middleware", versionUnsupportedError{version: "1.2", minVersion: "1.24"}, 400},
		{"not available", errNotAvailable("swarm"), 501},
	}
	for _, tt := range tests {
		if got := statusFromError(tt.err); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestWriteError(t *testing.T) {
	s := &server{Config: Config{DefaultAPIVersion: "1.51"}, log: discardLogger()}
	tests := []struct {
		name, path string
		err        error
		status     int
		ct, body   string
	}{
		{"json", "/services/x", errdefs.NotFound(errors.New(`service "x" <not> found`)), 404, "application/json",
			`{"message":"service \"x\" <not> found"}` + "\n"},
		{"500", "/services", errors.New("raft: no leader"), 500, "application/json", `{"message":"raft: no leader"}` + "\n"},
		{"304 has no body", "/containers/c/stop", errdefs.NotModified(errors.New("x")), 304, "application/json", ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		s.writeError(rec, httptest.NewRequest("GET", tt.path, nil), tt.err)
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != tt.ct || rec.Body.String() != tt.body {
			t.Errorf("%s: %d %q %q, want %d %q %q", tt.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tt.status, tt.ct, tt.body)
		}
	}
}
