package containerapi

import (
	"context"
	"errors"
	"io/fs"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/shoal-project/shoal/runtime/container"

	"github.com/shoal-project/shoal/internal/prunefilter"
)

var containerPruneFilters = map[string]bool{"label": true, "label!": true, "until": true}

// ContainersPrune answers POST /containers/prune as dockerd's ContainersPrune: every container
// that is not running (created or exited, swarm tasks' too: their agent reports a task whose
// container vanished as failed, and a finished task's container is no longer looked at), created
// before until and matching label and label!, is removed without force; SpaceReclaimed sums their
// writable layers. ContainersDeleted is null when none went, as in dockerd.
func (b *Backend) ContainersPrune(ctx context.Context, f filters.Args) (*containertypes.PruneReport, error) {
	done, err := b.containerPrune.start()
	if err != nil {
		return nil, err
	}
	defer done()
	if err := f.Validate(containerPruneFilters); err != nil {
		return nil, err
	}
	until, err := prunefilter.Until(f, b.now())
	if err != nil {
		return nil, err
	}
	rep := &containertypes.PruneReport{}
	for _, c := range b.rt.List() {
		if ctx.Err() != nil {
			break // what went so far, as dockerd
		}
		if c.State.Status == container.StatusRunning {
			continue
		}
		if !until.IsZero() && c.Created.After(until) {
			continue
		}
		if !prunefilter.MatchLabels(f, c.Spec.Labels) {
			continue
		}
		size, err := container.DirSize(ctx, c.UpperDir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		if err := b.ContainerRemove(ctx, c.ID, false, false); err != nil {
			continue // started or removed meanwhile
		}
		rep.SpaceReclaimed += uint64(size)
		rep.ContainersDeleted = append(rep.ContainersDeleted, c.ID)
	}
	return rep, nil
}
