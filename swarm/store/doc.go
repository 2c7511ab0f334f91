// Package store holds the cluster state of a swarm manager: services, tasks, nodes, networks, secrets,
// configs and the cluster object, in an in-memory indexed database (go-memdb).
//
// The store knows nothing of Raft. A write runs a callback against a scratch transaction, turns what
// the callback did into a Proposal (an ordered list of Changes with the versions they expect), and hands
// it to a Proposer. The Proposer replicates it and calls Apply on every manager once it commits; Apply
// is deterministic: it checks versions and names, stamps each written object's Version.Index with the
// log index, commits, and tells watchers. With a nil Proposer, writes apply locally (tests, tools).
//
// Objects read from the store are shared and read-only: Copy one before changing it.
package store
