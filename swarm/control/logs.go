package control

import (
	"context"
	"fmt"
	"strconv"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/store"
)

// ServiceLogs resolves the selected services and tasks and checks the options as Docker does.
//
// STUB: the log stream itself is not wired yet (the lead connects it to the agents' log readers);
// after the checks it answers 501.
func (c *Cluster) ServiceLogs(ctx context.Context, selector *backend.LogSelector, opts *container.LogsOptions) (<-chan *backend.LogMessage, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	var services, tasks []string
	st.View(func(tx store.ReadTx) {
		services, tasks, err = resolveLogSelector(tx, selector)
	})
	if err != nil {
		return nil, wrapClass(err, "error making log selector")
	}
	if opts.Tail != "" && opts.Tail != "all" {
		t, err := strconv.Atoi(opts.Tail)
		if err != nil {
			return nil, systemError(`tail value must be a positive integer or "all"`)
		}
		if t < 0 {
			return nil, systemError("negative tail values not supported")
		}
	}
	_, _ = services, tasks
	return nil, errdefs.NotImplemented(plainError("service logs are not implemented yet"))
}

// resolveLogSelector turns the selector's service and task references into IDs.
func resolveLogSelector(tx store.ReadTx, sel *backend.LogSelector) (services, tasks []string, err error) {
	if sel == nil {
		return nil, nil, nil
	}
	for _, ref := range sel.Services {
		s, err := resolveService(tx, ref)
		if err != nil {
			return nil, nil, err
		}
		if s.Spec.TaskTemplate.ContainerSpec == nil {
			return nil, nil, systemError("logs only supported on container tasks")
		}
		services = append(services, s.ID)
	}
	for _, ref := range sel.Tasks {
		t, err := resolveTask(tx, ref)
		if err != nil {
			return nil, nil, err
		}
		if t.Spec.ContainerSpec == nil {
			return nil, nil, systemError("logs only supported on container tasks")
		}
		tasks = append(tasks, t.ID)
	}
	return services, tasks, nil
}

// wrapClass prefixes an error's text and keeps its errdefs class, as pkg/errors.Wrap does in Docker.
func wrapClass(err error, prefix string) error {
	e := fmt.Errorf("%s: %w", prefix, err)
	switch {
	case errdefs.IsNotFound(err):
		return errdefs.NotFound(e)
	case errdefs.IsInvalidParameter(err):
		return errdefs.InvalidParameter(e)
	case errdefs.IsUnavailable(err):
		return errdefs.Unavailable(e)
	}
	return errdefs.System(e)
}
