package server

import (
	"log/slog"

	"github.com/shoal-project/shoal/swarm/allocator"
	"github.com/shoal-project/shoal/swarm/node"
	"github.com/shoal-project/shoal/swarm/orchestrator"
	"github.com/shoal-project/shoal/swarm/scheduler"
	"github.com/shoal-project/shoal/swarm/store"
)

// leaderLoops are the control loops the swarm leader runs: they meet only in the store.
func leaderLoops(log *slog.Logger) func(st *store.Store) []node.Loop {
	return func(st *store.Store) []node.Loop {
		return []node.Loop{
			orchestrator.New(st),
			orchestrator.NewReaper(st),
			allocator.New(st),
			scheduler.New(st),
		}
	}
}
