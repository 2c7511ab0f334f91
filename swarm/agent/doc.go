// Package agent is the worker half of a swarm node. It keeps a session with a dispatcher, receives
// the tasks assigned to this node, drives each through Docker's task states with an Executor
// (pull and create, start, wait, stop, remove), and reports status changes back in batches.
//
// The agent never imports manager packages: Dispatcher and Session are declared here and implemented
// by the manager's dispatcher, in-process for the local node and over the cluster channel for others.
// Executor is declared here and implemented by the container runtime; tests use an in-memory one.
package agent
