package routes

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/filters"
	timetypes "github.com/docker/docker/api/types/time"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/errdefs"
)

// The prune endpoints of containers, images and the build cache. Each answers its PruneReport as
// dockerd does: the deleted items (null when none, as dockerd's reports) and the space reclaimed.

var (
	containerPruneFilters = filterRule{keys: []string{"label", "label!", "until"}}
	imagePruneFilters     = filterRule{keys: []string{"dangling", "label", "label!", "until"}}
	// buildPruneFilters are BuildKit's (builder/builder-next: Prune's valid filters).
	buildPruneFilters = filterRule{keys: []string{"until", "unused-for", "label", "label!",
		"id", "parent", "type", "description", "inuse", "shared", "private"}}
)

// pruneContainers answers POST /containers/prune.
func (s *server) pruneContainers(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, containerPruneFilters)
	if err != nil {
		return err
	}
	rep, err := s.Containers.ContainersPrune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// pruneImages answers POST /images/prune: dangling images by default, every unused one with the
// filter dangling=false (`docker image prune -a`).
func (s *server) pruneImages(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, imagePruneFilters)
	if err != nil {
		return err
	}
	rep, err := s.Images.ImagesPrune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// pruneBuildCache answers POST /build/prune. shoal has no builder and so no build cache: after
// dockerd's checks of the parameters and filters, nothing is deleted. `docker system prune` and
// `docker builder prune` need the call to succeed.
func (s *server) pruneBuildCache(w http.ResponseWriter, r *http.Request) error {
	f, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return err
	}
	params := []string{"keep-storage"}
	if versions.GreaterThanOrEqualTo(s.apiVersion(r), "1.48") {
		params = []string{"reserved-space", "keep-storage", "max-used-space", "min-free-space"}
	}
	for _, p := range params {
		if v := r.FormValue(p); v != "" {
			if _, err := strconv.Atoi(v); err != nil {
				return errdefs.InvalidParameter(fmt.Errorf("%s is in bytes and expects an integer, got %v: %w", p, v, err))
			}
		}
	}
	if err := checkBuildPruneFilters(f, s.Now()); err != nil {
		return fmt.Errorf("failed to prune build cache: %w", err)
	}
	return writeJSON(w, http.StatusOK, build.CachePruneReport{})
}

// checkBuildPruneFilters checks the filters as BuildKit's prune does (toBuildkitPruneInfo).
func checkBuildPruneFilters(f filters.Args, now time.Time) error {
	if err := buildPruneFilters.validate(f); err != nil {
		return err
	}
	until, unusedFor := f.Get("until"), f.Get("unused-for")
	if len(until) > 0 && len(unusedFor) > 0 {
		return errdefs.InvalidParameter(fmt.Errorf("conflicting filters: %q and %q", "until", "unused-for"))
	}
	key := "until"
	if len(unusedFor) > 0 {
		key = "unused-for"
	}
	values := append(until, unusedFor...)
	if len(values) > 1 {
		return errdefs.InvalidParameter(errors.New("filters expect only one value"))
	}
	if len(values) == 1 {
		ts, err := timetypes.GetTimestamp(values[0], now)
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("%q filter expects a duration (e.g., '24h') or a timestamp: %w", key, err))
		}
		if _, _, err := timetypes.ParseTimestamps(ts, 0); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("failed to parse timestamp %q: %w", ts, err))
		}
	}
	for _, k := range []string{"id", "parent", "type", "description", "inuse", "shared", "private"} {
		if len(f.Get(k)) > 1 {
			return errdefs.InvalidParameter(errors.New("filters expect only one value"))
		}
	}
	return nil
}
