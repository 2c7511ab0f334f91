package routes

import (
	"net/http"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/versions"
	"github.com/go-chi/chi/v5"
)

func (s *server) getSecrets(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, secretFilters)
	if err != nil {
		return err
	}
	list, err := s.Cluster.GetSecrets(r.Context(), swarm.SecretListOptions{Filters: f})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// createSecret answers 201 {"ID": ...}.
func (s *server) createSecret(w http.ResponseWriter, r *http.Request) error {
	var spec swarm.SecretSpec
	if err := readJSON(r, &spec); err != nil {
		return err
	}
	if v := s.apiVersion(r); spec.Templating != nil && versions.LessThan(v, "1.37") {
		return invalidParam("secret templating is not supported on the specified API version: %s", v)
	}
	id, err := s.Cluster.CreateSecret(r.Context(), spec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, swarm.SecretCreateResponse{ID: id})
}

func (s *server) getSecret(w http.ResponseWriter, r *http.Request) error {
	sec, err := s.Cluster.GetSecret(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sec)
}

// updateSecret answers 200 with an empty body.
func (s *server) updateSecret(w http.ResponseWriter, r *http.Request) error {
	var spec swarm.SecretSpec
	if err := readJSON(r, &spec); err != nil {
		return err
	}
	version, err := objectVersion(r, "secret")
	if err != nil {
		return invalidParam("invalid secret version") // dockerd gives no detail here
	}
	return s.Cluster.UpdateSecret(r.Context(), chi.URLParam(r, "id"), version, spec)
}

// removeSecret answers 204.
func (s *server) removeSecret(w http.ResponseWriter, r *http.Request) error {
	if err := s.Cluster.RemoveSecret(r.Context(), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
