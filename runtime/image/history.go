package image

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/image"
)

// ImageHistory implements GET /images/{name}/history (`docker history`): one entry per entry of the
// image config's history, newest first. As dockerd with images that have no parent image, the top
// entry carries the image ID and its tags, the others "<missing>"; Size is the size of the layer a
// non-empty entry made. Errors: errdefs.NotFound "No such image: x:latest".
func (s *Store) ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	out := make([]image.HistoryResponseItem, 0, len(rec.cfg.History))
	layer := 0
	for _, h := range rec.cfg.History {
		var size int64
		if !h.EmptyLayer {
			if layer >= len(rec.diffIDs) {
				return nil, fmt.Errorf("too many non-empty layers in History section")
			}
			li, err := s.layers.info(rec.diffIDs[layer])
			if err != nil {
				return nil, fmt.Errorf("layer %s: %w", rec.diffIDs[layer], err)
			}
			size = li.Size
			layer++
		}
		var created int64
		if h.Created != nil {
			created = h.Created.Unix()
		}
		out = append(out, image.HistoryResponseItem{
			ID: "<missing>", Created: created, CreatedBy: h.CreatedBy, Comment: h.Comment, Size: size, Tags: []string{},
		})
	}
	// newest first
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 0 {
		tags, _ := s.tagsAndDigestsLocked(rec.id)
		out[0].ID = rec.id
		out[0].Tags = tags
	}
	return out, nil
}
