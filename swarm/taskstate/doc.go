// Package taskstate holds the order of Docker's task states and the rule that a task's observed state
// only moves forward. Every component that writes Task.Status (allocator, scheduler, dispatcher, agent,
// orchestrator) checks its move with Check; docs/task-model.md says who owns which move.
//
// The package is a leaf: it imports only the Engine API types, so managers and workers can share it.
package taskstate
