package image

import (
	"context"
	"sort"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	timetypes "github.com/docker/docker/api/types/time"
	"github.com/docker/docker/errdefs"
)

var acceptedImageFilters = map[string]bool{
	"dangling":  true,
	"label":     true,
	"before":    true,
	"since":     true,
	"reference": true,
	"until":     true,
}

// Images lists the stored images as GET /images/json does, newest first. Filters: reference
// (familiar patterns such as "busybox", "busybox:*", "*/app"), dangling, label, before, since, until.
func (s *Store) Images(ctx context.Context, opts image.ListOptions) ([]image.Summary, error) {
	if err := opts.Filters.Validate(acceptedImageFilters); err != nil {
		return nil, err
	}
	danglingOnly, err := opts.Filters.GetBoolOrDefault("dangling", false)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	var before, since time.Time
	if err := opts.Filters.WalkValues("before", func(v string) error {
		rec, err := s.lookupLocked(v)
		if err != nil {
			return err
		}
		if c := rec.cfg.Created; c != nil && (before.IsZero() || before.After(*c)) {
			before = *c
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := opts.Filters.WalkValues("until", func(v string) error {
		t, err := parseUntil(v, s.now())
		if err != nil {
			return errdefs.InvalidParameter(err)
		}
		if before.IsZero() || before.After(t) {
			before = t
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := opts.Filters.WalkValues("since", func(v string) error {
		rec, err := s.lookupLocked(v)
		if err != nil {
			return err
		}
		if c := rec.cfg.Created; c != nil && since.Before(*c) {
			since = *c
		}
		return nil
	}); err != nil {
		return nil, err
	}

	out := []image.Summary{}
	for id, rec := range s.images {
		created := rec.cfg.Created
		if !before.IsZero() && (created == nil || !created.Before(before)) {
			continue
		}
		if !since.IsZero() && (created == nil || !created.After(since)) {
			continue
		}
		if opts.Filters.Contains("label") && !opts.Filters.MatchKVList("label", rec.cfg.Config.Labels) {
			continue
		}
		sum, ok, err := s.summaryLocked(rec, opts.Filters)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		dangling := len(sum.RepoTags) == 0 && len(sum.RepoDigests) == 0
		if dangling && opts.Filters.Contains("dangling") && !danglingOnly {
			continue
		}
		if danglingOnly && len(sum.RepoTags) > 0 {
			continue
		}
		sum.Containers = int64(len(s.usersLocked(id)))
		out = append(out, sum)
	}
	if opts.SharedSize {
		s.fillSharedSizeLocked(out)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// summaryLocked builds an image's list entry; ok is false when a reference filter excludes it.
func (s *Store) summaryLocked(rec *imageRecord, f filters.Args) (image.Summary, bool, error) {
	sum := image.Summary{
		ID:          rec.id,
		ParentID:    "",
		Size:        rec.meta.Size,
		SharedSize:  -1,
		Containers:  -1,
		Labels:      map[string]string{}, // never null: the API contract requires the property
		RepoTags:    []string{},
		RepoDigests: []string{},
	}
	for k, v := range rec.cfg.Config.Labels {
		sum.Labels[k] = v
	}
	if rec.cfg.Created != nil {
		sum.Created = rec.cfg.Created.Unix()
	}
	refs := s.refsOfLocked(rec.id)
	for _, ref := range refs {
		if f.Contains("reference") {
			found := false
			for _, pattern := range f.Get("reference") {
				m, err := reference.FamiliarMatch(pattern, ref)
				if err != nil {
					return sum, false, errdefs.InvalidParameter(err)
				}
				if m {
					found = true
					break
				}
			}
			if !found {
				continue
			}
		}
		switch ref.(type) {
		case reference.Canonical:
			sum.RepoDigests = append(sum.RepoDigests, reference.FamiliarString(ref))
		case reference.NamedTagged:
			sum.RepoTags = append(sum.RepoTags, reference.FamiliarString(ref))
		}
	}
	if f.Contains("reference") && len(sum.RepoTags) == 0 && len(sum.RepoDigests) == 0 {
		return sum, false, nil
	}
	return sum, true, nil
}

// fillSharedSizeLocked sets SharedSize: the size of the layers (by chain ID) an image shares with
// at least one other stored image.
func (s *Store) fillSharedSizeLocked(sums []image.Summary) {
	count := map[string]int{}
	for _, rec := range s.images {
		for _, c := range rec.chainIDs() {
			count[c]++
		}
	}
	for i := range sums {
		rec := s.images[sums[i].ID]
		var shared int64
		for j, c := range rec.chainIDs() {
			if count[c] > 1 {
				if li, err := s.layers.info(rec.diffIDs[j]); err == nil {
					shared += li.Size
				}
			}
		}
		sums[i].SharedSize = shared
	}
}

// parseUntil reads an "until" filter value (a Unix timestamp, a date, or a duration before now).
func parseUntil(v string, now time.Time) (time.Time, error) {
	ts, err := timetypes.GetTimestamp(v, now)
	if err != nil {
		return time.Time{}, err
	}
	sec, nsec, err := timetypes.ParseTimestamps(ts, 0)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, nsec), nil
}
