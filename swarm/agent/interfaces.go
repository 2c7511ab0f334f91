package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// Executor runs tasks on this node.
type Executor interface {
	// Describe reports what this node is: hostname, platform, resources, engine.
	Describe(ctx context.Context) (swarm.NodeDescription, error)
	// Controller returns the controller of a task. It is called once per task the agent runs. deps
	// gives the data of the secrets and configs the task refers to.
	Controller(t Task, deps Dependencies) (Controller, error)
}

// Task is a task as the agent gets it: the Engine API task, and the name and labels its service had
// when the task was made (swarmkit's task carries them as ServiceAnnotations; Docker's API does
// not show them). Templates read them as .Service.Name and .Service.Labels.
type Task struct {
	swarm.Task
	ServiceAnnotations swarm.Annotations
	// HostPorts are the ports the task's service publishes in host mode: the node forwards them to
	// the task's container.
	HostPorts []swarm.PortConfig `json:",omitempty"`
}

// Controller drives one task's container. Methods are called from one goroutine at a time.
type Controller interface {
	// Prepare pulls the image and creates the container. An error rejects the task.
	Prepare(ctx context.Context) error
	// Start starts the created container.
	Start(ctx context.Context) error
	// Wait blocks until the container stops. nil means exit code 0; an *ExitError carries the code;
	// a *HealthError says the container turned unhealthy.
	Wait(ctx context.Context) error
	// Shutdown stops the container (its stop signal, the grace period, then SIGKILL).
	Shutdown(ctx context.Context) error
	// Remove deletes the container and what it owns.
	Remove(ctx context.Context) error
	// State tells what the runtime holds for this task now (after a restart of shoald).
	State(ctx context.Context) (ContainerState, error)
}

// ContainerState is what a Controller finds in the runtime.
type ContainerState int

// Container states as seen by the agent.
const (
	ContainerMissing ContainerState = iota
	ContainerCreated
	ContainerRunning
	ContainerExited
)

// Readiness is implemented by controllers whose containers have a health check: Healthy blocks
// until the container is healthy (nil) or unhealthy (a *HealthError).
type Readiness interface {
	Healthy(ctx context.Context) error
}

// ExitError is a container's non-zero exit.
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("task: non-zero exit (%d)", e.Code) }

// HealthError is a container that its health check found unhealthy.
type HealthError struct{}

func (e *HealthError) Error() string { return "task: container is unhealthy" }

// StatusUpdate is one task's new status.
type StatusUpdate struct {
	TaskID string
	Status swarm.TaskStatus
}

// Dependencies fetches the secrets and configs a task refers to, from the managers. The manager
// answers only for those that tasks assigned to this node use.
type Dependencies interface {
	Secret(ctx context.Context, id string) (*swarm.Secret, error)
	Config(ctx context.Context, id string) (*swarm.Config, error)
	// RegistryAuth is the X-Registry-Auth the service was created or updated with ("" for none).
	RegistryAuth(ctx context.Context, serviceID string) (string, error)
}

// DependencySession is a session that can fetch a task's secrets, configs and registry auth.
type DependencySession interface {
	Dependencies(ctx context.Context, secretIDs, configIDs []string) ([]swarm.Secret, []swarm.Config, error)
	RegistryAuth(ctx context.Context, serviceID string) (string, error)
}

// Dispatcher opens sessions with the managers.
type Dispatcher interface {
	// Session registers this node with its description and starts a session.
	Session(ctx context.Context, nodeID string, desc swarm.NodeDescription) (Session, error)
}

// Session is an agent's link to a dispatcher.
type Session interface {
	// Assignments delivers the whole set of tasks assigned to this node whenever it changes. The
	// slices are owned by the receiver.
	Assignments() <-chan []Task
	// UpdateStatus reports status changes in one batch.
	UpdateStatus(ctx context.Context, updates []StatusUpdate) error
	// Heartbeat tells the dispatcher this node is alive and returns when to beat next.
	Heartbeat(ctx context.Context) (time.Duration, error)
	// Done is closed when the session ends (manager gone, node removed).
	Done() <-chan struct{}
	Close()
}
