package routes

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/versions"
	"github.com/go-chi/chi/v5"
)

func (s *server) getContainers(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, containerFilters)
	if err != nil {
		return err
	}
	opts := container.ListOptions{
		All:     boolValue(r, "all"),
		Size:    boolValue(r, "size"),
		Since:   r.Form.Get("since"),
		Before:  r.Form.Get("before"),
		Filters: f,
	}
	if raw := r.Form.Get("limit"); raw != "" {
		if opts.Limit, err = strconv.Atoi(raw); err != nil {
			return err // a plain error (500), as dockerd
		}
	}
	list, err := s.Containers.Containers(r.Context(), opts)
	if err != nil {
		return err
	}
	v := s.apiVersion(r)
	for i := range list {
		if versions.LessThan(v, "1.46") {
			list[i].HostConfig.Annotations = nil
		}
		if versions.LessThan(v, "1.48") {
			list[i].ImageManifestDescriptor = nil
		}
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

func (s *server) inspectContainer(w http.ResponseWriter, r *http.Request) error {
	inspect := s.Containers.ContainerInspect
	if boolValue(r, "size") {
		inspect = s.Containers.ContainerInspectSize
	}
	c, err := inspect(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		return err
	}
	if versions.LessThan(s.apiVersion(r), "1.48") && c != nil && c.ImageManifestDescriptor != nil {
		cp := *c
		cp.ImageManifestDescriptor = nil
		c = &cp
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *server) topContainer(w http.ResponseWriter, r *http.Request) error {
	top, err := s.Containers.ContainerTop(r.Context(), chi.URLParam(r, "name"), r.Form.Get("ps_args"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, top)
}

// statsContainer streams JSON stats (one object per interval) or answers one object with stream=false.
// The backend may still fail before its first write: that is an ordinary error response.
func (s *server) statsContainer(w http.ResponseWriter, r *http.Request) error {
	stream := boolValueOrDefault(r, "stream", true)
	w.Header().Set("Content-Type", "application/json")
	var out io.Writer = newFlushWriter(w)
	if !stream {
		out = &startedWriter{w: w}
	}
	err := s.Containers.ContainerStats(r.Context(), chi.URLParam(r, "name"), stream, out)
	if err != nil && !wroteAny(out) {
		return err
	}
	return nil
}

// startedWriter is a plain response writer that remembers whether anything was written.
type startedWriter struct {
	w       io.Writer
	started bool
}

func (s *startedWriter) Write(b []byte) (int, error) {
	s.started = true
	return s.w.Write(b)
}

func wroteAny(w io.Writer) bool {
	switch w := w.(type) {
	case *flushWriter:
		return w.started
	case *startedWriter:
		return w.started
	}
	return false
}

// getContainerLogs streams a container's logs, multiplexed unless it has a TTY.
func (s *server) getContainerLogs(w http.ResponseWriter, r *http.Request) error {
	opts := logsOptions(r)
	if !opts.ShowStdout && !opts.ShowStderr {
		return invalidParam(errNoStream)
	}
	msgs, tty, err := s.Containers.ContainerLogs(r.Context(), chi.URLParam(r, "name"), opts)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", s.streamContentType(r, tty))
	writeLogStream(r.Context(), w, msgs, opts, !tty)
	return nil
}

// killContainer answers 204.
func (s *server) killContainer(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	if err := s.Containers.ContainerKill(r.Context(), name, r.Form.Get("signal")); err != nil {
		return fmt.Errorf("cannot kill container: %s: %w", name, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stopContainer answers 204, or 304 when the backend says the container was not running (NotModified).
func (s *server) stopContainer(w http.ResponseWriter, r *http.Request) error {
	timeout, signal, err := s.stopOptions(r)
	if err != nil {
		return err
	}
	if err := s.Containers.ContainerStop(r.Context(), chi.URLParam(r, "name"), timeout, signal); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// restartContainer answers 204.
func (s *server) restartContainer(w http.ResponseWriter, r *http.Request) error {
	timeout, signal, err := s.stopOptions(r)
	if err != nil {
		return err
	}
	if err := s.Containers.ContainerRestart(r.Context(), chi.URLParam(r, "name"), timeout, signal); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stopOptions reads ?t= and, from API 1.42 on, ?signal=.
func (s *server) stopOptions(r *http.Request) (*int, string, error) {
	timeout, err := optionalSeconds(r)
	if err != nil {
		return nil, "", err
	}
	signal := ""
	if versions.GreaterThanOrEqualTo(s.apiVersion(r), "1.42") {
		signal = r.Form.Get("signal")
	}
	return timeout, signal, nil
}

// removeContainer answers 204.
func (s *server) removeContainer(w http.ResponseWriter, r *http.Request) error {
	if err := s.Containers.ContainerRemove(r.Context(), chi.URLParam(r, "name"), boolValue(r, "force"), boolValue(r, "v")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
