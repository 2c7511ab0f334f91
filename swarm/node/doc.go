// Package node is this host's swarm membership: its identity and certificates, its Raft member and
// store when it is a manager, the leader-only control loops, the dispatcher, and the local agent.
// It implements control.Lifecycle (init, join, leave) and control.Node, and restores a membership
// from the data root when shoald starts again.
package node
