// Package control is the swarm manager's API backend: it implements routes.ClusterBackend. It checks
// and defaults specs as Docker does, resolves names and ID prefixes, applies filters, and turns each
// request into one store write. Errors carry Docker's texts and errdefs classes.
//
// Control never drives tasks itself: the orchestrator, allocator and scheduler react to what it writes.
package control
