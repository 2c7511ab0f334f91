package server

import (
	"context"
	"log/slog"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/node"
	"github.com/shoal-project/shoal/swarm/store"
)

// parts are the node-local runtime pieces: image store, container runtime, task executor.
type parts struct {
	executor        agent.Executor
	containerCounts func() (total, running, stopped int)
	imageCount      func() int
	close           func()
}

func newParts(ctx context.Context, cfg Config, log *slog.Logger) (*parts, error) {
	return &parts{close: func() {}}, nil
}

// leaderLoops are the control loops the swarm leader runs.
func leaderLoops(log *slog.Logger) func(st *store.Store) []node.Loop {
	return func(st *store.Store) []node.Loop { return nil }
}
