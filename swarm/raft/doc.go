// Package raft replicates the swarm store with hashicorp/raft: every store write is a log entry, the
// log and stable state live in bbolt under the data root, and snapshots are the store's own Save form.
//
// Node implements store.Proposer. Its FSM decodes each committed entry and calls store.Apply with the
// entry's index, which becomes the Version.Index of the objects written; Apply is deterministic (no
// clock, no I/O), so every manager holds the same state. The transport is a parameter: in-memory for a
// lone manager and for tests, the cluster channel for several managers.
package raft
