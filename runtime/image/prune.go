package image

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/internal/prunefilter"
)

var acceptedPruneFilters = map[string]bool{
	"dangling": true,
	"label":    true,
	"label!":   true,
	"until":    true,
}

// ImagesPrune answers POST /images/prune with dockerd's rules (daemon/images/image_prune.go):
// by default (filter dangling=true) the images without a tag; with dangling=false every image.
// Images a container uses, running or stopped, are kept (their deletion is a conflict, skipped).
// An image is deleted through its references (ImageDelete without force), or by ID when it has
// none, so the report lists the untagged references and the deleted image and layer IDs.
// SpaceReclaimed is the size of the layers that went. Filters: dangling, label, label!, until.
// A second prune while one runs is errdefs.Conflict "a prune operation is already running".
func (s *Store) ImagesPrune(ctx context.Context, f filters.Args) (*image.PruneReport, error) {
	if !s.pruneRunning.CompareAndSwap(false, true) {
		return nil, errdefs.Conflict(errors.New("a prune operation is already running"))
	}
	defer s.pruneRunning.Store(false)
	if err := f.Validate(acceptedPruneFilters); err != nil {
		return nil, err
	}
	danglingOnly, err := f.GetBoolOrDefault("dangling", true)
	if err != nil {
		return nil, err
	}
	until, err := pruneUntil(f, s.now())
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	layerSize := map[string]int64{} // chain ID → size of its layer, before anything goes
	var candidates []string
	for id, rec := range s.images {
		for i, chain := range rec.chainIDs() {
			if li, err := s.layers.info(rec.diffIDs[i]); err == nil {
				layerSize[chain] = li.Size
			}
		}
		if !until.IsZero() && (rec.cfg.Created == nil || rec.cfg.Created.After(until)) {
			continue
		}
		if !prunefilter.MatchLabels(f, rec.cfg.Config.Labels) {
			continue
		}
		candidates = append(candidates, id)
	}
	s.mu.Unlock()
	slices.Sort(candidates)

	rep := &image.PruneReport{}
	for _, id := range candidates {
		if ctx.Err() != nil {
			break // report what went so far, as dockerd
		}
		var names []string
		s.mu.Lock()
		refs := s.refsOfLocked(id)
		s.mu.Unlock()
		if len(refs) == 0 {
			names = []string{hexOf(id)}
		} else if !danglingOnly || !hasTag(refs) {
			for _, r := range refs {
				names = append(names, r.String())
			}
		}
		for _, name := range names {
			deleted, err := s.ImageDelete(ctx, name, false, true)
			if err != nil {
				if !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
					s.log.Warn("image prune: could not delete image", "image", name, "err", err)
				}
				continue
			}
			rep.ImagesDeleted = append(rep.ImagesDeleted, deleted...)
		}
	}
	for _, d := range rep.ImagesDeleted {
		if d.Deleted != "" {
			rep.SpaceReclaimed += uint64(layerSize[d.Deleted])
		}
	}
	return rep, nil
}

// hasTag reports whether one of the references is a tag (digest references do not count).
func hasTag(refs []reference.Named) bool {
	for _, r := range refs {
		if _, ok := r.(reference.NamedTagged); ok {
			return true
		}
	}
	return false
}

// pruneUntil reads the until filter of an image prune. As dockerd's image service, its errors
// are not classified (500).
func pruneUntil(f filters.Args, now time.Time) (time.Time, error) {
	values := f.Get("until")
	switch len(values) {
	case 0:
		return time.Time{}, nil
	case 1:
		return parseUntil(values[0], now)
	default:
		return time.Time{}, fmt.Errorf("more than one until filter specified")
	}
}

// LayersSize is the disk space of the layers the stored images use, each layer counted once
// (GET /system/df's LayersSize).
func (s *Store) LayersSize(ctx context.Context) (int64, error) {
	s.mu.Lock()
	diffIDs := map[string]bool{}
	for _, rec := range s.images {
		for _, d := range rec.diffIDs {
			diffIDs[d] = true
		}
	}
	s.mu.Unlock()
	var total int64
	for d := range diffIDs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		li, err := s.layers.info(d)
		if err != nil {
			continue // removed meanwhile
		}
		total += li.Size
	}
	return total, nil
}
