package containerapi

import (
	"context"
	"errors"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"
)

// ContainerWait starts waiting for the condition ("not-running", "next-exit" or "removed"; the
// routes check the word) and returns the channel that gets the answer of POST
// /containers/{id}/wait. A missing container is an error here, before any answer is sent; an
// error while waiting (ctx ends) is sent in the response's Error, as dockerd.
func (b *Backend) ContainerWait(ctx context.Context, name, condition string) (<-chan containertypes.WaitResponse, error) {
	c, err := b.get(name)
	if err != nil {
		return nil, err
	}
	out := make(chan containertypes.WaitResponse, 1)
	go func() {
		code, err := b.rt.WaitFor(ctx, c.ID, condition)
		out <- waitResponse(code, err)
	}()
	return out, nil
}

// waitResponse is the wait answer: the exit code, and the wait's error, if any.
func waitResponse(code int, err error) containertypes.WaitResponse {
	resp := containertypes.WaitResponse{StatusCode: int64(code)}
	if err != nil {
		resp.StatusCode = -1
		resp.Error = &containertypes.WaitExitError{Message: err.Error()}
	}
	return resp
}

// ContainerStart starts a created or exited container (POST /containers/{id}/start). A running
// one gives errdefs.NotModified (304), a paused one dockerd's Conflict.
func (b *Backend) ContainerStart(ctx context.Context, name string) error {
	c, err := b.get(name)
	if err != nil {
		return err
	}
	if c.State.Status == container.StatusRunning {
		if c.State.Paused {
			return errdefs.Conflict(errors.New("cannot start a paused container, try unpause instead"))
		}
		return errdefs.NotModified(errors.New("container is already running"))
	}
	return b.rt.Start(ctx, c.ID)
}

// ContainerPause freezes a running container (POST /containers/{id}/pause).
func (b *Backend) ContainerPause(_ context.Context, name string) error {
	c, err := b.get(name)
	if err != nil {
		return err
	}
	return b.rt.Pause(c.ID)
}

// ContainerUnpause thaws a paused container (POST /containers/{id}/unpause).
func (b *Backend) ContainerUnpause(_ context.Context, name string) error {
	c, err := b.get(name)
	if err != nil {
		return err
	}
	return b.rt.Unpause(c.ID)
}

// ContainerInspectSize is ContainerInspect with SizeRw and SizeRootFs filled, as GET
// /containers/{id}/json?size=1.
func (b *Backend) ContainerInspectSize(ctx context.Context, name string) (*containertypes.InspectResponse, error) {
	c, err := b.get(name)
	if err != nil {
		return nil, err
	}
	resp := inspect(c, b.execs.runningIDs(c.ID))
	var sum containertypes.Summary
	z := sizer{b: b}
	z.fill(ctx, c, &sum)
	resp.SizeRw = &sum.SizeRw
	resp.SizeRootFs = &sum.SizeRootFs
	return resp, nil
}
