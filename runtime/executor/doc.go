// Package executor runs swarm tasks as real containers: it implements agent.Executor over the image
// store (runtime/image) and the libcontainer runtime (runtime/container). A task's controller pulls
// the image, merges the image config with the task's ContainerSpec the way Docker does, creates and
// starts the container named <service>.<slot>.<task id> with Docker's task labels, waits for it (and
// for its health check), stops it with its stop signal and grace period, and removes it. It also
// reads a task container's log for the agent (agent.LogReader), which sends it to the manager that
// asked for it.
//
// Like swarmkit's agent, it expands the Go templates of the task's container spec (env, hostname,
// mounts) when it makes the controller, and those of templated secrets and configs when it writes
// their files at start (runtime/template); template errors fail the task with swarmkit's texts.
package executor
