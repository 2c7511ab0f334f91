package routes

import (
	"net/http"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/versions"
	"github.com/go-chi/chi/v5"
)

func (s *server) getConfigs(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, configFilters)
	if err != nil {
		return err
	}
	list, err := s.Cluster.GetConfigs(r.Context(), swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// createConfig answers 201 {"ID": ...}.
func (s *server) createConfig(w http.ResponseWriter, r *http.Request) error {
	var spec swarm.ConfigSpec
	if err := readJSON(r, &spec); err != nil {
		return err
	}
	if v := s.apiVersion(r); spec.Templating != nil && versions.LessThan(v, "1.37") {
		return invalidParam("config templating is not supported on the specified API version: %s", v)
	}
	id, err := s.Cluster.CreateConfig(r.Context(), spec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, swarm.ConfigCreateResponse{ID: id})
}

func (s *server) getConfig(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.Cluster.GetConfig(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cfg)
}

// updateConfig answers 200 with an empty body.
func (s *server) updateConfig(w http.ResponseWriter, r *http.Request) error {
	var spec swarm.ConfigSpec
	if err := readJSON(r, &spec); err != nil {
		return err
	}
	version, err := objectVersion(r, "config")
	if err != nil {
		return invalidParam("invalid config version") // dockerd gives no detail here
	}
	return s.Cluster.UpdateConfig(r.Context(), chi.URLParam(r, "id"), version, spec)
}

// removeConfig answers 204.
func (s *server) removeConfig(w http.ResponseWriter, r *http.Request) error {
	if err := s.Cluster.RemoveConfig(r.Context(), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
