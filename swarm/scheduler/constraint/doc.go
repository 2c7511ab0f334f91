// Package constraint parses service placement constraints ("node.role==manager",
// "node.labels.zone != east") and matches them against nodes, with swarmkit's syntax and rules.
// It is a leaf used by the scheduler (which nodes may take a task) and by the global orchestrator
// (which nodes need a task).
package constraint
