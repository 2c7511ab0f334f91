package image

import (
	"context"
	"errors"
	"fmt"

	"github.com/distribution/reference"
	"github.com/docker/docker/errdefs"
)

// TagImage implements POST /images/{name}/tag (`docker tag`): it points newTag (a reference with
// a tag, "repo:tag", normalised or not) at the image name designates, replacing what the tag named
// before, and records the tag time (Metadata.LastTagTime), as dockerd. Errors: errdefs.NotFound
// for an image name that designates nothing (or is malformed), errdefs.InvalidParameter for a
// malformed or digest newTag.
func (s *Store) TagImage(ctx context.Context, name, newTag string) error {
	named, err := reference.ParseNormalizedNamed(newTag)
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	if _, ok := named.(reference.Digested); ok {
		return errdefs.InvalidParameter(errors.New("refusing to create a tag with a digest reference"))
	}
	named = reference.TagNameOnly(named)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.lookupLocked(name)
	if err != nil {
		return errdefs.NotFound(err) // dockerd answers 404 for any lookup error, a malformed name too
	}
	s.setTagLocked(named, rec, s.now().UTC())
	if err := s.saveMetaLocked(rec); err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	if err := s.saveRefsLocked(); err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	return nil
}
