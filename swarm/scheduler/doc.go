// Package scheduler assigns pending tasks to nodes: the leader-only controller that owns the move
// PENDING -> ASSIGNED.
//
// The decision is a pure function, Schedule: it takes a snapshot of nodes, tasks and services and the
// time, runs each pending task through a pipeline of filters (node ready and active, resources,
// constraints, platform, host-mode ports, max replicas per node), spreads the tasks that pass over the
// nodes (fewest tasks of the service, then fewest tasks overall, within placement-preference groups)
// and returns the changed tasks. A task no node can take keeps its pending state and gets Docker's
// reason: "no suitable node (insufficient resources on 1 node)".
//
// Scheduler is the shell: it watches the store, runs Schedule on a fresh snapshot after each burst of
// changes and writes every decision of the pass in one store Batch.
package scheduler
