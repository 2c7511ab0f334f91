package routes

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/versions"
	"github.com/go-chi/chi/v5"
)

// waitContainer answers POST /containers/{name}/wait as dockerd: from API 1.30 the 200 and its
// headers go out at once and the body {"StatusCode":N} when the condition is met.
func (s *server) waitContainer(w http.ResponseWriter, r *http.Request) error {
	legacy := versions.LessThan(s.apiVersion(r), "1.30")
	condition := string(container.WaitConditionNotRunning)
	if v := r.Form.Get("condition"); v != "" && !legacy {
		switch container.WaitCondition(v) {
		case container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
			condition = v
		default:
			return invalidParam("invalid condition: %q", v)
		}
	}
	ch, err := s.Containers.ContainerWait(r.Context(), chi.URLParam(r, "name"), condition)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	if !legacy {
		w.WriteHeader(http.StatusOK)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	var resp container.WaitResponse
	select {
	case resp = <-ch:
	case <-r.Context().Done():
		return nil // the client left; nothing to answer
	}
	_ = json.NewEncoder(w).Encode(&resp)
	return nil
}

// startContainer answers 204, or 304 when the container already runs. A JSON body (a HostConfig,
// removed in API 1.24) is refused as dockerd does.
func (s *server) startContainer(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > 7 || r.ContentLength == -1 {
		return invalidParam("%s", errStartBody)
	}
	if err := s.Containers.ContainerStart(r.Context(), chi.URLParam(r, "name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var errStartBody = errors.New("starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24")

// pauseContainer answers 204.
func (s *server) pauseContainer(w http.ResponseWriter, r *http.Request) error {
	if err := s.Containers.ContainerPause(r.Context(), chi.URLParam(r, "name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unpauseContainer answers 204.
func (s *server) unpauseContainer(w http.ResponseWriter, r *http.Request) error {
	if err := s.Containers.ContainerUnpause(r.Context(), chi.URLParam(r, "name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
