package routes

import (
	"encoding/json"
	"fmt"
	"net/http"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/errdefs"
)

// statusFromError is the one place where errors become HTTP status codes. As moby's
// httpstatus.FromError, the outermost errdefs class in the chain decides; an unclassified error is 500.
func statusFromError(err error) int {
	rerr := cerrdefs.Resolve(err)
	switch {
	case cerrdefs.IsNotFound(rerr):
		return http.StatusNotFound
	case cerrdefs.IsInvalidArgument(rerr):
		return http.StatusBadRequest
	case cerrdefs.IsConflict(rerr):
		return http.StatusConflict
	case cerrdefs.IsUnauthorized(rerr):
		return http.StatusUnauthorized
	case cerrdefs.IsUnavailable(rerr):
		return http.StatusServiceUnavailable
	case cerrdefs.IsPermissionDenied(rerr):
		return http.StatusForbidden
	case cerrdefs.IsNotModified(rerr):
		return http.StatusNotModified
	case cerrdefs.IsNotImplemented(rerr):
		return http.StatusNotImplemented
	default:
		return http.StatusInternalServerError
	}
}

// errorResponse is the body of every error: {"message": "..."}.
type errorResponse struct {
	Message string `json:"message"`
}

// writeError writes err as dockerd does: JSON {"message": err.Error()} with the status of its class;
// plain text for clients asking for an API version older than 1.24, so that they can read the
// "too old" error.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusFromError(err)
	if status >= http.StatusInternalServerError {
		s.log.Error("handler returned error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if status == http.StatusNotModified { // no body allowed
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		return
	}
	if v := requestedVersion(r); v != "" && versions.LessThan(v, "1.24") {
		http.Error(w, err.Error(), status)
		return
	}
	_ = writeJSON(w, status, errorResponse{Message: err.Error()})
}

// writeJSON writes v as JSON with the status code, without HTML escaping, as moby's WriteJSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// notFound answers unknown paths and methods.
func notFound(w http.ResponseWriter, _ *http.Request) {
	_ = writeJSON(w, http.StatusNotFound, errorResponse{Message: "page not found"})
}

// require refuses every request of a route group whose backend is not configured.
func (s *server) require(area string, present bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if present {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, errNotAvailable(area))
		})
	}
}

// errNotAvailable is the error of a route whose backend this daemon does not have.
func errNotAvailable(area string) error {
	return errdefs.NotImplemented(fmt.Errorf("%s API is not available on this daemon", area))
}

// invalidParam classifies err as a bad request.
func invalidParam(format string, args ...any) error {
	return errdefs.InvalidParameter(fmt.Errorf(format, args...))
}

// plainError is an unclassified error (500), for the few places where dockerd answers 500 to bad input.
func plainError(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}
