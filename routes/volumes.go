package routes

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"
	"github.com/go-chi/chi/v5"
)

// The volume endpoints, as dockerd's volume router (api/server/router/volume): local volumes from
// the VolumeBackend. Swarm cluster (CSI) volumes do not exist here; where dockerd would ask the
// cluster for one (API >= 1.42 on a manager) the answer is the one a cluster without volumes gives.

// clusterVolumesVersion is the API version that brought cluster volumes.
const clusterVolumesVersion = "1.42"

var (
	volumeFilters      = filterRule{keys: []string{"dangling", "name", "driver", "label"}}
	volumePruneFilters = filterRule{keys: []string{"label", "label!", "all"}}
)

// isManager reports whether this node manages a swarm (dockerd's cluster.IsManager).
func (s *server) isManager(ctx context.Context) bool {
	if s.Cluster == nil {
		return false
	}
	info := s.Cluster.Info(ctx)
	return info.LocalNodeState == swarm.LocalNodeStateActive && info.ControlAvailable
}

// asksCluster reports whether dockerd would look a volume up in the swarm too.
func (s *server) asksCluster(r *http.Request) bool {
	return versions.GreaterThanOrEqualTo(s.apiVersion(r), clusterVolumesVersion) && s.isManager(r.Context())
}

// errNoClusterVolume is the swarm's answer for a volume it does not have.
func errNoClusterVolume(name string) error {
	return errdefs.NotFound(fmt.Errorf("volume %s not found", name))
}

// getVolumes answers GET /volumes: {"Volumes": [...], "Warnings": [...]}, both lists never null.
func (s *server) getVolumes(w http.ResponseWriter, r *http.Request) error {
	f, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return fmt.Errorf("error reading volume filters: %w", err)
	}
	if err := volumeFilters.validate(f); err != nil {
		return err
	}
	list, warnings, err := s.Volumes.Volumes(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, volume.ListResponse{Volumes: nonNil(list), Warnings: nonNil(warnings)})
}

// getVolume answers GET /volumes/{name}. A volume this node does not have is "get <name>: no such
// volume", or, on a manager (API >= 1.42), the swarm's "volume <name> not found".
func (s *server) getVolume(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	v, err := s.Volumes.VolumeInspect(r.Context(), name)
	if cerrdefs.IsNotFound(err) && s.asksCluster(r) {
		return errNoClusterVolume(name)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// createVolume answers POST /volumes/create with 201 and the volume. A cluster volume
// (ClusterVolumeSpec, API >= 1.42) is refused: the swarm's error off a manager, 501 on one.
func (s *server) createVolume(w http.ResponseWriter, r *http.Request) error {
	var req volume.CreateOptions
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.ClusterVolumeSpec != nil && versions.GreaterThanOrEqualTo(s.apiVersion(r), clusterVolumesVersion) {
		return s.errClusterVolumes(r.Context())
	}
	v, err := s.Volumes.VolumeCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

// errClusterVolumes is the answer to a cluster volume request: the swarm's own error where there
// is no manager to ask, else 501.
func (s *server) errClusterVolumes(ctx context.Context) error {
	if s.Cluster == nil {
		return errNotAvailable("swarm")
	}
	if _, err := s.Cluster.Inspect(ctx); err != nil {
		return err
	}
	return errdefs.NotImplemented(plainError("cluster volumes are not supported by this daemon"))
}

// updateVolume answers PUT /volumes/{name}, which only updates cluster volumes: off a manager
// dockerd's 503; on one the version is checked and the volume is looked up in the swarm, which
// has none.
func (s *server) updateVolume(w http.ResponseWriter, r *http.Request) error {
	if !s.isManager(r.Context()) {
		return errdefs.Unavailable(plainError("volume update only valid for cluster volumes, but swarm is unavailable"))
	}
	raw := r.URL.Query().Get("version")
	if _, err := strconv.ParseUint(raw, 10, 64); err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid swarm object version '%s': %v", raw, err))
	}
	var req volume.UpdateOptions
	if err := readJSON(r, &req); err != nil {
		return err
	}
	return errNoClusterVolume(chi.URLParam(r, "name"))
}

// removeVolume answers DELETE /volumes/{name}?force with 204. As dockerd, a volume this node does
// not have is then looked for in the swarm (API >= 1.42 on a manager), whose "volume <name> not
// found" is the answer; force makes a missing volume no error.
func (s *server) removeVolume(w http.ResponseWriter, r *http.Request) error {
	name := chi.URLParam(r, "name")
	force := boolValue(r, "force")
	err := s.Volumes.VolumeRemove(r.Context(), name, force)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return err
	}
	if (err != nil || force) && s.asksCluster(r) {
		err = nil
		if !force {
			err = errNoClusterVolume(name)
		}
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pruneVolumes answers POST /volumes/prune. Before API 1.42 every unused volume goes, not only
// the anonymous ones (dockerd adds the filter all=true for those clients).
func (s *server) pruneVolumes(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, volumePruneFilters)
	if err != nil {
		return err
	}
	if versions.LessThan(s.apiVersion(r), clusterVolumesVersion) {
		f.Add("all", "true")
	}
	rep, err := s.Volumes.VolumesPrune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
