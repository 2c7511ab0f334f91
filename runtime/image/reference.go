package image

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/errdefs"
)

// ParseReference normalises an image reference as Docker does: "busybox" becomes
// "docker.io/library/busybox:latest" (default registry, library/ namespace, default tag latest);
// a reference with both a tag and a digest keeps only the digest, which takes precedence.
// Errors are errdefs.InvalidParameter with the parser's text ("invalid reference format", ...).
func ParseReference(ref string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	return normalize(named), nil
}

// FamiliarString is the short form Docker shows for a reference: "busybox:latest",
// "127.0.0.1:5000/whoami:1". It returns ref unchanged when it does not parse.
func FamiliarString(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(normalize(named))
}

// normalize applies the default tag, or drops the tag of a reference that also has a digest.
func normalize(named reference.Named) reference.Named {
	if canonical, ok := named.(reference.Canonical); ok {
		if _, tagged := named.(reference.Tagged); tagged {
			if d, err := reference.WithDigest(reference.TrimNamed(named), canonical.Digest()); err == nil {
				return d
			}
		}
		return named
	}
	return reference.TagNameOnly(named)
}

// storeKey is the key of a reference in Store.refs: the full normalised string.
func storeKey(named reference.Named) string { return normalize(named).String() }

// errNoSuchImage is Docker's not-found error for an image reference or ID.
func errNoSuchImage(ref reference.Reference) error {
	if named, ok := ref.(reference.Named); ok {
		ref = reference.TagNameOnly(named)
	}
	return errdefs.NotFound(fmt.Errorf("No such image: %s", reference.FamiliarString(ref)))
}

// lookupLocked finds an image as dockerd's GetImage does: a full ID ("sha256:<hex>" or 64 hex), a
// reference (name, name:tag, name@digest), then an unambiguous ID prefix.
func (s *Store) lookupLocked(refOrID string) (*imageRecord, error) {
	ref, err := reference.ParseAnyReference(refOrID)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	named, ok := ref.(reference.Named)
	if !ok {
		if d, ok := ref.(reference.Digested); ok {
			if rec := s.images[d.Digest().String()]; rec != nil {
				return rec, nil
			}
		}
		return nil, errNoSuchImage(ref)
	}
	if id, ok := s.refs[storeKey(named)]; ok {
		if rec := s.images[id]; rec != nil {
			return rec, nil
		}
	}
	if rec := s.searchIDLocked(refOrID); rec != nil {
		return rec, nil
	}
	return nil, errNoSuchImage(ref)
}

// searchIDLocked returns the only image whose ID starts with prefix ("sha256:" optional).
func (s *Store) searchIDLocked(prefix string) *imageRecord {
	prefix = strings.TrimPrefix(prefix, "sha256:")
	if prefix == "" || strings.Trim(prefix, "0123456789abcdef") != "" {
		return nil
	}
	var found *imageRecord
	for id, rec := range s.images {
		if strings.HasPrefix(hexOf(id), prefix) {
			if found != nil {
				return nil // ambiguous
			}
			found = rec
		}
	}
	return found
}

// isIDPrefix reports whether name designates image id by ID (full or prefix) rather than by
// reference, as dockerd's isImageIDPrefix.
func isIDPrefix(id, name string) bool {
	return strings.HasPrefix(id, name) || strings.HasPrefix(hexOf(id), name)
}

// shortID is an ID cut to 12 hex digits, as Docker prints them.
func shortID(id string) string {
	h := hexOf(id)
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}
