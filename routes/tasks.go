package routes

import (
	"net/http"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/swarm"
	"github.com/go-chi/chi/v5"
)

func (s *server) getTasks(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, taskFilters)
	if err != nil {
		return err
	}
	list, err := s.Cluster.GetTasks(r.Context(), swarm.TaskListOptions{Filters: f})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

func (s *server) getTask(w http.ResponseWriter, r *http.Request) error {
	t, err := s.Cluster.GetTask(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *server) getTaskLogs(w http.ResponseWriter, r *http.Request) error {
	return s.swarmLogs(w, r, &backend.LogSelector{Tasks: []string{chi.URLParam(r, "id")}})
}
