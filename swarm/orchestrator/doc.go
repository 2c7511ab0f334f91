// Package orchestrator is the manager's leader-only controller that keeps each service's tasks
// matching its spec: it creates tasks (state NEW, desired RUNNING), replaces tasks that fail or lose
// their node, scales replicated services up and down, keeps one task per eligible node for global
// services, runs jobs to completion, rolls out spec changes slot by slot (with pause and rollback),
// and sets desired states SHUTDOWN and REMOVE. It never moves a task's observed state except through
// the allocator, scheduler and agent, which own those moves (see docs/task-model.md).
//
// Decisions are pure: Reconcile takes one service, its tasks, the nodes, what the shell observed and
// the time, and returns the tasks to create, the tasks and service to update, and when it wants to be
// asked again (restart delays, update delays, update monitoring). Reap, the task reaper's decision,
// takes all tasks and returns the ones to delete. Neither reads a clock or the store.
//
// Orchestrator and Reaper are the shells: they watch the store, run the pure cores on the services an
// event touched, and write the results, re-reading and retrying on store.ErrSequenceConflict.
package orchestrator
