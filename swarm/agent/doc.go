// Package agent is the worker half of a swarm node. It keeps a session with a dispatcher, receives
// the tasks assigned to this node, drives each through Docker's task states with an Executor
// (pull and create, start, wait, stop, remove), and reports status changes back in batches.
//
// Task logs: a session that is a LogSession also delivers the log subscriptions a manager opens for
// this node's tasks; the agent reads each with the executor's LogReader and publishes the messages
// back in batches, until the log ends or the subscription is withdrawn.
//
// Overlay networks: a session that is a NetworkSession delivers the node's view of the overlay
// networks its tasks use; when the executor is a NetworkApplier the agent hands it each new view
// from one goroutine per session, beside task management: the newest view wins, a failed apply is
// retried after a short wait unless a newer view comes first, and what was applied stays when the
// session ends.
//
// The agent never imports manager packages: Dispatcher and Session are declared here and implemented
// by the manager's dispatcher, in-process for the local node and over the cluster channel for others.
// Executor is declared here and implemented by the container runtime; tests use an in-memory one.
package agent
