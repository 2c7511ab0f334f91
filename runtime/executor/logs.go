package executor

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/backend"
	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"
	"github.com/shoal-project/shoal/runtime/containerapi"
	"github.com/shoal-project/shoal/swarm/agent"
)

var _ agent.LogReader = (*Executor)(nil)

// TaskLogs implements agent.LogReader: the json-file log of the container labelled with t's ID (the
// newest if there are several), read with the options as `docker logs` reads them.
// errdefs.NotFound when this node has no container for t.
func (e *Executor) TaskLogs(ctx context.Context, t swarm.Task, opts containertypes.LogsOptions) (<-chan *backend.LogMessage, error) {
	var found *container.Container
	for _, c := range e.rt.List() { // oldest first: the newest match wins
		if id, ok := c.Spec.Labels[labelTaskID]; ok && id == t.ID {
			found = c
		}
	}
	if found == nil {
		return nil, errdefs.NotFound(fmt.Errorf("task %s has no container on this node", t.ID))
	}
	lo, err := containerapi.LogOptions(opts)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	return e.rt.Logs(ctx, found.ID, lo)
}
