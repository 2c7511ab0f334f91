package containerapi

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"
)

// Containers answers GET /containers/json: running containers (all with All, or with a status
// filter), newest first, filtered and limited as dockerd does.
func (b *Backend) Containers(ctx context.Context, opts containertypes.ListOptions) ([]containertypes.Summary, error) {
	all := b.rt.List()
	lf, err := newListFilter(opts, all)
	if err != nil {
		return nil, err
	}
	if lf.ancestor {
		lf.images = b.ancestorIDs(ctx, opts.Filters.Get("ancestor"))
	}
	now := b.now()
	out := []containertypes.Summary{}
	sizes := &sizer{b: b}
	for _, c := range lf.selectContainers(all) {
		s := summary(c, now)
		s.Image = b.imageRef(ctx, c)
		if opts.Size {
			sizes.fill(ctx, c, &s)
		}
		out = append(out, s)
	}
	return out, nil
}

// ancestorIDs resolves the ancestor filter's images to IDs; an image that does not resolve
// matches nothing.
func (b *Backend) ancestorIDs(ctx context.Context, refs []string) map[string]bool {
	ids := map[string]bool{}
	for _, ref := range refs {
		if b.images == nil {
			continue
		}
		if img, err := b.images.Resolve(ctx, ref); err == nil {
			ids[img.ID] = true
		}
	}
	return ids
}

// summary is one row of GET /containers/json.
func summary(c *container.Container, now time.Time) containertypes.Summary {
	s := containertypes.Summary{
		ID:      c.ID,
		Names:   names(c),
		Image:   c.Spec.Image,
		ImageID: c.Spec.ImageID,
		Command: commandText(c.Spec),
		Created: c.Created.Unix(),
		Ports:   []containertypes.Port{},
		Labels:  labels(c),
		State:   stateOf(c),
		Status:  statusText(c.State, now),
		NetworkSettings: &containertypes.NetworkSettingsSummary{
			Networks: endpointSettings(c.Spec.Networks),
		},
		Mounts: mountPoints(c),
	}
	s.HostConfig.NetworkMode = networkMode(c.Spec.NetNS)
	return s
}

func names(c *container.Container) []string {
	if c.Name == "" {
		return []string{}
	}
	return []string{"/" + c.Name}
}

func labels(c *container.Container) map[string]string {
	l := make(map[string]string, len(c.Spec.Labels))
	for k, v := range c.Spec.Labels {
		l[k] = v
	}
	return l
}

// listFilter is GET /containers/json's options, checked, as dockerd's listContext.
type listFilter struct {
	opts     containertypes.ListOptions
	f        filters.Args
	exited   []int
	isTask   *bool
	before   string // container ID
	since    string
	ancestor bool
	images   map[string]bool // ancestor image IDs
}

// newListFilter checks the filters with dockerd's texts; all is the runtime's containers, for
// resolving before and since.
func newListFilter(opts containertypes.ListOptions, all []*container.Container) (*listFilter, error) {
	f := opts.Filters
	lf := &listFilter{opts: opts, f: f}
	err := f.WalkValues("exited", func(v string) error {
		code, err := strconv.Atoi(v)
		if err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid filter 'exited=%s': %w", v, err))
		}
		lf.exited = append(lf.exited, code)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = f.WalkValues("status", func(v string) error {
		if err := containertypes.ValidateContainerState(containertypes.ContainerState(v)); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid filter 'status=%s': %w", v, err))
		}
		lf.opts.All = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if f.Contains("is-task") {
		v, err := f.GetBoolOrDefault("is-task", false)
		if err != nil {
			return nil, err
		}
		lf.isTask = &v
	}
	err = f.WalkValues("health", func(v string) error {
		if err := containertypes.ValidateHealthStatus(containertypes.HealthStatus(v)); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid filter 'health=%s': %w", v, err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, key := range []string{"publish", "expose"} {
		err = f.WalkValues(key, func(v string) error {
			if strings.Contains(v, ":") {
				return fmt.Errorf("filter for '%s' should not contain ':': %s", key, v)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if lf.before, err = resolveBound(f, opts.Before, "before", all); err != nil {
		return nil, err
	}
	if lf.since, err = resolveBound(f, opts.Since, "since", all); err != nil {
		return nil, err
	}
	lf.ancestor = f.Contains("ancestor")
	return lf, nil
}

// resolveBound finds the container a before or since filter (or the legacy query parameter)
// names: by ID, ID prefix or name.
func resolveBound(f filters.Args, param, key string, all []*container.Container) (string, error) {
	refs := f.Get(key)
	if param != "" {
		refs = append(refs, param)
	}
	id := ""
	for _, ref := range refs {
		c, err := findIn(all, ref)
		if err != nil {
			return "", err
		}
		id = c.ID
	}
	return id, nil
}

// findIn looks a container up in a list as the runtime does: full ID, name, then unique prefix.
func findIn(all []*container.Container, ref string) (*container.Container, error) {
	for _, c := range all {
		if c.ID == ref {
			return c, nil
		}
	}
	name := strings.TrimPrefix(ref, "/")
	for _, c := range all {
		if c.Name != "" && c.Name == name {
			return c, nil
		}
	}
	var found *container.Container
	for _, c := range all {
		if ref != "" && strings.HasPrefix(c.ID, ref) {
			if found != nil {
				return nil, errdefs.InvalidParameter(fmt.Errorf("multiple IDs found with provided prefix: %s", ref))
			}
			found = c
		}
	}
	if found == nil {
		return nil, errdefs.NotFound(errors.New("No such container: " + ref))
	}
	return found, nil
}

// selectContainers applies the filter to the containers (any order) and returns the selected
// ones, newest first.
func (lf *listFilter) selectContainers(all []*container.Container) []*container.Container {
	sorted := append([]*container.Container(nil), all...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].Created.Equal(sorted[j].Created) {
			return sorted[i].Created.After(sorted[j].Created)
		}
		return sorted[i].ID > sorted[j].ID
	})
	if ids := lf.f.Get("id"); len(ids) > 0 {
		// As dockerd: an id filter value is an ID prefix; names then only among those.
		matched := map[string]bool{}
		for _, id := range ids {
			for _, c := range sorted {
				if strings.HasPrefix(c.ID, id) {
					matched[c.ID] = true
				}
			}
		}
		var keep []*container.Container
		for _, c := range sorted {
			if matched[c.ID] {
				keep = append(keep, c)
			}
		}
		sorted = keep
	}
	var out []*container.Container
	before := lf.before
	for _, c := range sorted {
		if before != "" {
			if c.ID == before {
				before = ""
			}
			continue
		}
		if lf.since != "" && c.ID == lf.since {
			break
		}
		if lf.opts.Limit > 0 && len(out) == lf.opts.Limit {
			break
		}
		if lf.include(c) {
			out = append(out, c)
		}
	}
	return out
}

// include is dockerd's includeContainerInList for one container, without the before, since and
// limit bounds.
func (lf *listFilter) include(c *container.Container) bool {
	f := lf.f
	running := c.State.Status == container.StatusRunning
	if !running && !lf.opts.All && lf.opts.Limit <= 0 {
		return false
	}
	if f.Contains("name") && !f.Match("name", "/"+c.Name) && !f.Match("name", c.Name) {
		return false
	}
	if lf.isTask != nil && *lf.isTask != isTask(c) {
		return false
	}
	if !f.MatchKVList("label", c.Spec.Labels) {
		return false
	}
	if f.Contains("isolation") && !f.Match("isolation", "default") {
		return false
	}
	if len(lf.exited) > 0 {
		ok := false
		for _, code := range lf.exited {
			if !running && !c.State.StartedAt.IsZero() && code == c.State.ExitCode {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if !f.Match("status", string(stateOf(c))) {
		return false
	}
	if !f.ExactMatch("health", string(healthStatus(c))) {
		return false
	}
	if f.Contains("volume") && !lf.usesVolume(c) {
		return false
	}
	if lf.ancestor && !lf.images[c.Spec.ImageID] {
		return false
	}
	// No container of this runtime is on a local network or publishes ports yet.
	if f.Contains("network") || f.Contains("publish") || f.Contains("expose") {
		return false
	}
	return true
}

// usesVolume matches the volume filter against the volume names, sources and destinations.
func (lf *listFilter) usesVolume(c *container.Container) bool {
	for _, mp := range mountPoints(c) {
		for _, v := range lf.f.Get("volume") {
			if v == mp.Destination || (mp.Name != "" && v == mp.Name) || (mp.Name == "" && v == mp.Source) {
				return true
			}
		}
	}
	return false
}

// isTask reports whether a container belongs to a swarm task (dockerd's Managed).
func isTask(c *container.Container) bool {
	_, ok := c.Spec.Labels["com.docker.swarm.task.id"]
	return ok
}
