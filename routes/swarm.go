package routes

import (
	"net/http"
	"strconv"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/versions"
)

func (s *server) inspectSwarm(w http.ResponseWriter, r *http.Request) error {
	sw, err := s.Cluster.Inspect(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sw)
}

// initSwarm answers the new node's ID as a JSON string.
func (s *server) initSwarm(w http.ResponseWriter, r *http.Request) error {
	var req swarm.InitRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	v := s.apiVersion(r)
	if versions.LessThan(v, "1.39") { // DefaultAddrPool and SubnetSize are new in 1.39
		req.DefaultAddrPool = nil
		req.SubnetSize = 0
	}
	if versions.LessThan(v, "1.40") { // DataPathPort is new in 1.40
		req.DataPathPort = 0
	}
	nodeID, err := s.Cluster.Init(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nodeID)
}

func (s *server) joinSwarm(w http.ResponseWriter, r *http.Request) error {
	var req swarm.JoinRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	return s.Cluster.Join(r.Context(), req)
}

func (s *server) leaveSwarm(w http.ResponseWriter, r *http.Request) error {
	return s.Cluster.Leave(r.Context(), boolValue(r, "force"))
}

func (s *server) updateSwarm(w http.ResponseWriter, r *http.Request) error {
	var spec swarm.Spec
	if err := readJSON(r, &spec); err != nil {
		return err
	}
	version, err := objectVersion(r, "swarm")
	if err != nil {
		return err
	}
	var flags swarm.UpdateFlags
	for _, f := range []struct {
		name string
		dst  *bool
	}{
		{"rotateWorkerToken", &flags.RotateWorkerToken},
		{"rotateManagerToken", &flags.RotateManagerToken},
		{"rotateManagerUnlockKey", &flags.RotateManagerUnlockKey},
	} {
		raw := r.URL.Query().Get(f.name)
		if raw == "" {
			continue
		}
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return invalidParam("invalid value for %s: %s", f.name, raw)
		}
		*f.dst = b
	}
	return s.Cluster.Update(r.Context(), version, spec, flags)
}

func (s *server) getUnlockKey(w http.ResponseWriter, r *http.Request) error {
	key, err := s.Cluster.GetUnlockKey(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, swarm.UnlockKeyResponse{UnlockKey: key})
}

func (s *server) unlockSwarm(w http.ResponseWriter, r *http.Request) error {
	var req swarm.UnlockRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	return s.Cluster.UnlockSwarm(r.Context(), req)
}
