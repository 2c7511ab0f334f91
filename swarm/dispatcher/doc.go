// Package dispatcher is the manager side of agent sessions. A node registers with its description
// and is marked ready; it then receives the set of tasks assigned to it each time that set changes,
// sends heartbeats (a node whose heartbeats stop is marked down by the leader), and reports task
// status in batches, written to the store as one Raft entry per batch with states only moving forward.
package dispatcher
