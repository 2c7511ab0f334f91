package containerapi

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/backend"
	containertypes "github.com/docker/docker/api/types/container"
	timetypes "github.com/docker/docker/api/types/time"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"
)

// ContainerLogs streams a container's json-file log; tty tells whether the container has a
// terminal (its output is then one raw stream).
func (b *Backend) ContainerLogs(ctx context.Context, name string, opts containertypes.LogsOptions) (<-chan *backend.LogMessage, bool, error) {
	if !opts.ShowStdout && !opts.ShowStderr {
		return nil, false, errdefs.InvalidParameter(errors.New("You must choose at least one stream"))
	}
	c, err := b.get(name)
	if err != nil {
		return nil, false, err
	}
	msgs, err := b.logs(ctx, c, opts)
	return msgs, c.Spec.TTY, err
}

func (b *Backend) logs(ctx context.Context, c *container.Container, opts containertypes.LogsOptions) (<-chan *backend.LogMessage, error) {
	lo, err := LogOptions(opts)
	if err != nil {
		return nil, err
	}
	return b.rt.Logs(ctx, c.ID, lo)
}

// LogOptions turns the API's log options into the runtime's, as dockerd reads them: a tail that
// is not a number means all; since and until are Unix timestamps with optional fractions. The
// executor reads swarm task logs with them too.
func LogOptions(opts containertypes.LogsOptions) (container.LogOptions, error) {
	lo := container.LogOptions{Stdout: opts.ShowStdout, Stderr: opts.ShowStderr, Follow: opts.Follow, Tail: -1}
	if n, err := strconv.Atoi(opts.Tail); err == nil && n >= 0 {
		lo.Tail = n
	}
	if opts.Since != "" {
		s, n, err := timetypes.ParseTimestamps(opts.Since, 0)
		if err != nil {
			return lo, err
		}
		lo.Since = time.Unix(s, n)
	}
	if opts.Until != "" && opts.Until != "0" {
		s, n, err := timetypes.ParseTimestamps(opts.Until, 0)
		if err != nil {
			return lo, err
		}
		lo.Until = time.Unix(s, n)
	}
	return lo, nil
}
