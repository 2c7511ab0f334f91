package routes

import (
	"net/http"

	"github.com/docker/docker/api/types/swarm"
	"github.com/go-chi/chi/v5"
)

func (s *server) getNodes(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, nodeFilters)
	if err != nil {
		return err
	}
	list, err := s.Cluster.GetNodes(r.Context(), swarm.NodeListOptions{Filters: f})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

func (s *server) getNode(w http.ResponseWriter, r *http.Request) error {
	n, err := s.Cluster.GetNode(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}

// updateNode answers 200 with an empty body.
func (s *server) updateNode(w http.ResponseWriter, r *http.Request) error {
	var spec swarm.NodeSpec
	if err := readJSON(r, &spec); err != nil {
		return err
	}
	version, err := objectVersion(r, "node")
	if err != nil {
		return err
	}
	return s.Cluster.UpdateNode(r.Context(), chi.URLParam(r, "id"), version, spec)
}

// removeNode answers 200 with an empty body.
func (s *server) removeNode(w http.ResponseWriter, r *http.Request) error {
	return s.Cluster.RemoveNode(r.Context(), chi.URLParam(r, "id"), boolValue(r, "force"))
}
