package image

import (
	"context"
	"fmt"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"
)

// ImageDelete answers DELETE /images/{name} with dockerd's rules (daemon/images/image_delete.go):
// a reference is untagged (and the image deleted once no reference is left); an ID deletes the
// image. It is refused with errdefs.Conflict while a container uses the image:
//
//	conflict: unable to remove repository reference "x" (must force) - container <id> is using its referenced image <id>
//	conflict: unable to delete <id> (cannot be forced) - image is being used by running container <id>
//	conflict: unable to delete <id> (must be forced) - image is being used by stopped container <id>
//	conflict: unable to delete <id> (must be forced) - image is referenced in multiple repositories
//
// Layers no other image uses are removed from disk, except those of an image force-deleted while a
// stopped container still uses it (kept until the daemon restarts). prune has no effect: images
// here have no parent images.
func (s *Store) ImageDelete(ctx context.Context, name string, force, prune bool) ([]image.DeleteResponse, error) {
	s.mu.Lock()
	records, cleanups, err := s.deleteLocked(name, force)
	s.mu.Unlock()
	for _, c := range cleanups {
		c()
	}
	return records, err
}

func (s *Store) deleteLocked(name string, force bool) ([]image.DeleteResponse, []func(), error) {
	rec, err := s.lookupLocked(name)
	if err != nil {
		return nil, nil, err
	}
	records := []image.DeleteResponse{}
	id := rec.id
	users := s.usersLocked(id)
	refs := s.refsOfLocked(id)
	refsChanged := false
	defer func() {
		if refsChanged {
			if err := s.saveRefsLocked(); err != nil {
				s.log.Error("image store: saving references", "err", err)
			}
		}
	}()

	quiet := false
	if !isIDPrefix(id, name) {
		if !force && isSingleReference(refs) && len(users) > 0 {
			return nil, nil, errdefs.Conflict(fmt.Errorf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
				name, shortID(users[0].ID), shortID(id)))
		}
		parsed, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			return nil, nil, errdefs.InvalidParameter(err)
		}
		parsed = normalize(parsed)
		delete(s.refs, storeKey(parsed))
		refsChanged = true
		records = append(records, image.DeleteResponse{Untagged: reference.FamiliarString(parsed)})

		refs = s.refsOfLocked(id)
		// Untagging the last tag of a repository also drops that repository's digest references.
		if _, canonical := parsed.(reference.Canonical); !canonical {
			tagLeft := false
			for _, r := range refs {
				if _, c := r.(reference.Canonical); !c && r.Name() == parsed.Name() {
					tagLeft = true
					break
				}
			}
			if !tagLeft {
				var remaining []reference.Named
				for _, r := range refs {
					if _, c := r.(reference.Canonical); c && r.Name() == parsed.Name() {
						delete(s.refs, storeKey(r))
						records = append(records, image.DeleteResponse{Untagged: reference.FamiliarString(r)})
						continue
					}
					remaining = append(remaining, r)
				}
				refs = remaining
			}
		}
		if len(refs) > 0 {
			return records, nil, nil
		}
		quiet = true
	} else if isSingleReference(refs) {
		if c := checkConflict(id, users, refs, true, false, !force); c != nil {
			return nil, nil, c.err()
		}
		for _, r := range refs {
			delete(s.refs, storeKey(r))
			refsChanged = true
			records = append(records, image.DeleteResponse{Untagged: reference.FamiliarString(r)})
		}
	}

	c := checkConflict(id, users, s.refsOfLocked(id), true, !force, !force)
	if c != nil {
		dangling := len(s.refsOfLocked(id)) == 0
		if quiet && (!dangling || c.used) {
			return records, nil, nil // untagged; the image stays for its containers
		}
		return nil, nil, c.err()
	}
	for _, r := range s.refsOfLocked(id) {
		delete(s.refs, storeKey(r))
		refsChanged = true
		records = append(records, image.DeleteResponse{Untagged: reference.FamiliarString(r)})
	}
	if err := s.removeRecordFilesLocked(id); err != nil {
		return records, nil, err
	}
	delete(s.images, id)
	records = append(records, image.DeleteResponse{Deleted: id})

	remaining := map[string]bool{}
	for _, other := range s.images {
		for _, ch := range other.chainIDs() {
			remaining[ch] = true
		}
	}
	chains := rec.chainIDs()
	for i := len(chains) - 1; i >= 0; i-- {
		if !remaining[chains[i]] {
			records = append(records, image.DeleteResponse{Deleted: chains[i]})
		}
	}
	if len(users) > 0 {
		for _, d := range rec.diffIDs {
			s.pinned[d] = true
		}
	}
	return records, s.collectLayersLocked(), nil
}

// imageDeleteConflict is dockerd's delete conflict.
type imageDeleteConflict struct {
	hard    bool
	used    bool
	id      string
	message string
}

func (c *imageDeleteConflict) err() error {
	force := "must be forced"
	if c.hard {
		force = "cannot be forced"
	}
	return errdefs.Conflict(fmt.Errorf("conflict: unable to delete %s (%s) - %s", shortID(c.id), force, c.message))
}

// checkConflict looks for what prevents deleting image id: a running container (hard), other
// references (soft, when refsCount), a stopped container (soft, when stopped).
func checkConflict(id string, users []ContainerUse, refs []reference.Named, running, refsCount, stopped bool) *imageDeleteConflict {
	if running {
		for _, u := range users {
			if u.Running {
				return &imageDeleteConflict{hard: true, used: true, id: id,
					message: "image is being used by running container " + shortID(u.ID)}
			}
		}
	}
	if refsCount && len(refs) > 0 {
		return &imageDeleteConflict{id: id, message: "image is referenced in multiple repositories"}
	}
	if stopped {
		for _, u := range users {
			if !u.Running {
				return &imageDeleteConflict{used: true, id: id,
					message: "image is being used by stopped container " + shortID(u.ID)}
			}
		}
	}
	return nil
}

// isSingleReference reports whether refs hold at most one tag and all belong to one repository
// (dockerd's rule for deleting by ID without force). False for no references.
func isSingleReference(refs []reference.Named) bool {
	if len(refs) <= 1 {
		return len(refs) == 1
	}
	var single reference.Named
	canonical := map[string]bool{}
	for _, r := range refs {
		if _, c := r.(reference.Canonical); c {
			canonical[r.Name()] = true
		} else if single == nil {
			single = r
		} else {
			return false
		}
	}
	if single == nil {
		single = refs[0]
	}
	return len(canonical) == 1 && canonical[single.Name()]
}

// collectLayersLocked removes the layer directories no image, pull, load or pinned container needs.
// It returns the funcs that delete their files, to run without the lock.
func (s *Store) collectLayersLocked() []func() {
	keep := map[string]bool{}
	for _, rec := range s.images {
		for _, d := range rec.diffIDs {
			keep[d] = true
		}
	}
	for d := range s.leases {
		keep[d] = true
	}
	for d := range s.pinned {
		keep[d] = true
	}
	all, err := s.layers.list()
	if err != nil {
		s.log.Warn("image store: listing layers", "err", err)
		return nil
	}
	var cleanups []func()
	for _, d := range all {
		if keep[d] {
			continue
		}
		cleanup, err := s.layers.remove(d)
		if err != nil {
			s.log.Warn("image store: removing layer", "layer", d, "err", err)
			continue
		}
		cleanups = append(cleanups, cleanup)
	}
	return cleanups
}
