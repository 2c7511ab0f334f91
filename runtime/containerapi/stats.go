package containerapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/shoal-project/shoal/runtime/container"
)

// statsInterval is how often streamed stats are sampled, as dockerd's collector.
const statsInterval = time.Second

// ContainerTop lists the container's processes (docker top).
func (b *Backend) ContainerTop(ctx context.Context, name string, psArgs string) (*containertypes.TopResponse, error) {
	return b.rt.Top(name, psArgs)
}

// ContainerStats writes the container's stats as JSON: with stream, one object per second until
// ctx ends (or the container is removed); without, one object whose CPU delta covers a second,
// as `docker stats --no-stream` expects. A container that is not running gives objects with only
// its name and ID, as dockerd.
func (b *Backend) ContainerStats(ctx context.Context, name string, stream bool, out io.Writer) error {
	c, err := b.get(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	if !stream && c.State.Status != container.StatusRunning {
		return enc.Encode(emptyStats(c))
	}
	var prev *containertypes.StatsResponse
	first := true
	tick := time.NewTicker(statsInterval)
	defer tick.Stop()
	for {
		cur, err := b.sample(c)
		if err != nil {
			return err
		}
		if prev != nil {
			cur.PreCPUStats = prev.CPUStats
			cur.PreRead = prev.Read
		}
		prev = cur
		// Without stream the first sample only primes the CPU delta.
		if stream || !first {
			if err := enc.Encode(cur); err != nil {
				return err
			}
			if !stream {
				return nil
			}
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// sample reads the stats of c once; not running, they are empty.
func (b *Backend) sample(c *container.Container) (*containertypes.StatsResponse, error) {
	st, err := b.rt.Stats(c.ID)
	switch {
	case err == nil:
		return st, nil
	case errors.Is(err, container.ErrNotRunning):
		return emptyStats(c), nil
	}
	return nil, err
}

func emptyStats(c *container.Container) *containertypes.StatsResponse {
	return &containertypes.StatsResponse{Name: "/" + c.Name, ID: c.ID}
}
