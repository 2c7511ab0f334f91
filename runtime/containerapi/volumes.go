package containerapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"

	"github.com/shoal-project/shoal/internal/prunefilter"
)

// The volume endpoints over the runtime's local volumes, as dockerd's volume service
// (volume/service) answers them. Only the local driver exists.

const localDriver = "local"

var (
	volumeListFilters  = map[string]bool{"dangling": true, "name": true, "driver": true, "label": true}
	volumePruneFilters = map[string]bool{"label": true, "label!": true, "all": true}
)

// pruning serialises the prunes of one kind, as dockerd refuses a second one while one runs.
type pruning struct{ running atomic.Bool }

func (p *pruning) start() (done func(), err error) {
	if !p.running.CompareAndSwap(false, true) {
		return nil, errdefs.Conflict(errors.New("a prune operation is already running"))
	}
	return func() { p.running.Store(false) }, nil
}

// apiVolume is a volume in the Engine API's shape. Labels and Options are {} rather than null
// when there are none: the API's contract requires both members (dockerd sends null for a
// volume that a container made without labels or options).
func apiVolume(v container.Volume) *volume.Volume {
	out := &volume.Volume{
		Name:       v.Name,
		Driver:     localDriver,
		Mountpoint: v.Mountpoint,
		CreatedAt:  v.CreatedAt.Format(time.RFC3339),
		Labels:     maps.Clone(v.Labels),
		Options:    maps.Clone(v.Options),
		Scope:      "local",
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.Options == nil {
		out.Options = map[string]string{}
	}
	return out
}

// Volumes answers GET /volumes: the volumes matching the filters name (a substring or pattern,
// as dockerd's), driver, label and dangling, sorted by name. It has no warnings to give.
func (b *Backend) Volumes(ctx context.Context, f filters.Args) ([]*volume.Volume, []string, error) {
	if err := f.Validate(volumeListFilters); err != nil {
		return nil, nil, err
	}
	var dangling *bool
	if f.Contains("dangling") {
		d, err := f.GetBoolOrDefault("dangling", false)
		if err != nil {
			return nil, nil, err
		}
		dangling = &d
	}
	all, err := b.rt.Volumes()
	if err != nil {
		return nil, nil, err
	}
	out := []*volume.Volume{}
	for _, v := range all {
		if f.Contains("driver") && !f.ExactMatch("driver", localDriver) {
			continue
		}
		if f.Contains("name") && !f.Match("name", v.Name) {
			continue
		}
		if !prunefilter.MatchLabels(f, v.Labels) {
			continue
		}
		if dangling != nil && *dangling != (len(v.UsedBy) == 0) {
			continue
		}
		out = append(out, apiVolume(v))
	}
	return out, []string{}, nil
}

// VolumeInspect answers GET /volumes/{name}: errdefs.NotFound "get <name>: no such volume".
func (b *Backend) VolumeInspect(ctx context.Context, name string) (*volume.Volume, error) {
	v, err := b.rt.Volume(name)
	if err != nil {
		return nil, err
	}
	return apiVolume(v), nil
}

// VolumeCreate answers POST /volumes/create for the local driver ("" or "local"): another driver
// is the plugin lookup's errdefs.NotFound, as on a dockerd without that plugin. See
// container.Runtime.CreateVolume for names, options and labels.
func (b *Backend) VolumeCreate(ctx context.Context, req volume.CreateOptions) (*volume.Volume, error) {
	if req.Driver != "" && req.Driver != localDriver {
		name := req.Name
		if name == "" {
			name = randomHex()
		}
		return nil, errdefs.NotFound(fmt.Errorf("create %s: error looking up volume plugin %s: plugin %q not found", name, req.Driver, req.Driver))
	}
	v, err := b.rt.CreateVolume(req.Name, req.DriverOpts, req.Labels)
	if err != nil {
		return nil, err
	}
	return apiVolume(v), nil
}

// VolumeRemove answers DELETE /volumes/{name}: errdefs.Conflict "remove <name>: volume is in use
// - [<ids>]" while a container, running or not, mounts it; with force a missing volume is no
// error (a volume in use is still refused, as in dockerd).
func (b *Backend) VolumeRemove(ctx context.Context, name string, force bool) error {
	err := b.rt.RemoveVolume(name)
	if force && errors.Is(err, container.ErrNoSuchVolume) {
		return nil
	}
	return err
}

// VolumesPrune answers POST /volumes/prune: the unused volumes without options (dockerd leaves
// volumes that mount another file system alone), by default only anonymous ones (filter
// all=true for all), filtered by label and label!. VolumesDeleted is [] when none went.
func (b *Backend) VolumesPrune(ctx context.Context, f filters.Args) (*volume.PruneReport, error) {
	done, err := b.volumePrune.start()
	if err != nil {
		return nil, err
	}
	defer done()
	f = f.Clone()
	all := f.Get("all")
	switch {
	case len(all) > 1:
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter 'all=%s': only one value is expected", all))
	case len(all) == 1:
		ok, err := strconv.ParseBool(all[0])
		if err != nil {
			return nil, errdefs.InvalidParameter(fmt.Errorf("invalid filter 'all': %w", err))
		}
		if !ok {
			f.Add("label", container.AnonymousVolumeLabel)
		}
	default:
		f.Add("label", container.AnonymousVolumeLabel)
	}
	if err := f.Validate(volumePruneFilters); err != nil {
		return nil, err
	}
	vols, err := b.rt.Volumes()
	if err != nil {
		return nil, err
	}
	rep := &volume.PruneReport{VolumesDeleted: []string{}}
	for _, v := range vols {
		if ctx.Err() != nil {
			break
		}
		if len(v.UsedBy) > 0 || len(v.Options) > 0 || !prunefilter.MatchLabels(f, v.Labels) {
			continue
		}
		size, _ := container.DirSize(ctx, v.Mountpoint)
		if err := b.rt.RemoveVolume(v.Name); err != nil {
			continue // taken meanwhile
		}
		rep.SpaceReclaimed += uint64(size)
		rep.VolumesDeleted = append(rep.VolumesDeleted, v.Name)
	}
	return rep, nil
}

// VolumesDiskUsage lists the volumes for GET /system/df with their UsageData: size on disk (-1
// when it cannot be measured) and the number of containers using them. Volumes with options are
// left out, as dockerd does: their data lives on another file system.
func (b *Backend) VolumesDiskUsage(ctx context.Context) ([]*volume.Volume, error) {
	vols, err := b.rt.Volumes()
	if err != nil {
		return nil, err
	}
	out := []*volume.Volume{}
	for _, v := range vols {
		if len(v.Options) > 0 {
			continue
		}
		size, err := container.DirSize(ctx, v.Mountpoint)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			size = -1
		}
		av := apiVolume(v)
		av.UsageData = &volume.UsageData{Size: size, RefCount: int64(len(v.UsedBy))}
		out = append(out, av)
	}
	return out, nil
}

func randomHex() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
