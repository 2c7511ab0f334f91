package executor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"
	"github.com/shoal-project/shoal/runtime/image"
	"github.com/shoal-project/shoal/runtime/template"
	"github.com/shoal-project/shoal/swarm/agent"
)

// Executor implements agent.Executor.
type Executor struct {
	images        *image.Store
	rt            *container.Runtime
	engineVersion string
	filesDir      string // <exec-root>/taskfiles: each task's secret and config files
	nets          Networks
}

// New makes an executor over an image store and a container runtime; execRoot holds the secret and
// config files of the tasks (it should be a tmpfs, as /run is).
func New(images *image.Store, rt *container.Runtime, engineVersion, execRoot string) *Executor {
	return &Executor{images: images, rt: rt, engineVersion: engineVersion, filesDir: filepath.Join(execRoot, "taskfiles")}
}

var _ agent.Executor = (*Executor)(nil)

// Describe reports this host as a swarm node.
func (e *Executor) Describe(ctx context.Context) (swarm.NodeDescription, error) {
	var si syscall.Sysinfo_t
	var mem int64
	if syscall.Sysinfo(&si) == nil {
		mem = int64(si.Totalram) * int64(si.Unit)
	}
	node := hostDescription()
	return swarm.NodeDescription{
		Hostname:  node.Hostname,
		Platform:  node.Platform,
		Resources: swarm.Resources{NanoCPUs: int64(runtime.NumCPU()) * 1e9, MemoryBytes: mem},
		Engine: swarm.EngineDescription{EngineVersion: e.engineVersion, Labels: map[string]string{}, Plugins: []swarm.PluginDescription{
			{Type: "Log", Name: "json-file"}, {Type: "Log", Name: "local"},
			{Type: "Network", Name: "bridge"}, {Type: "Network", Name: "host"}, {Type: "Network", Name: "null"}, {Type: "Network", Name: "overlay"},
			{Type: "Volume", Name: "local"},
		}},
	}, nil
}

// hostDescription is this host's hostname and platform, as Describe reports them.
func hostDescription() swarm.NodeDescription {
	host, _ := os.Hostname()
	return swarm.NodeDescription{Hostname: host, Platform: swarm.Platform{Architecture: "x86_64", OS: runtime.GOOS}}
}

// Controller implements agent.Executor. It expands the templates of the task's container spec, as
// swarmkit's agent does when it resolves a task's controller; a template error fails the task
// when the agent prepares it (Docker rejects the task; failing Controller instead would make the
// agent retry it on every assignment).
func (e *Executor) Controller(at agent.Task, deps agent.Dependencies) (agent.Controller, error) {
	t := at.Task
	if t.Spec.ContainerSpec == nil {
		return nil, errors.New("executor: task has no container spec")
	}
	c := &controller{e: e, task: t, name: t.Annotations.Name, deps: deps, hostPorts: at.HostPorts}
	c.failed = validateMounts(t.Spec.ContainerSpec.Mounts) // rejects the task at Prepare, as Docker's executor
	if c.failed != nil {
		return c, nil // Docker validates the mounts before it expands the templates
	}
	node := hostDescription()
	svc := templateService(at)
	cs, err := template.ExpandContainerSpec(template.NewContext(t, svc, &node), t.Spec.ContainerSpec)
	if err != nil {
		c.failed = err
		return c, nil
	}
	c.task.Spec.ContainerSpec = cs
	// Docker's secret and config templates see no node description: .Node.ID only.
	c.files = template.NewContext(c.task, svc, nil)
	return c, nil
}

// templateService is what templates see of a task's service: the name and labels the task keeps
// of it (the service part of the container name when the manager sent no name).
func templateService(t agent.Task) template.Service {
	svc := template.Service{Name: t.ServiceAnnotations.Name, Labels: t.ServiceAnnotations.Labels}
	if svc.Name == "" {
		svc.Name = serviceName(t.Annotations.Name)
	}
	return svc
}

// controller drives one task's container; the agent calls it from one goroutine at a time.
type controller struct {
	e      *Executor
	task   swarm.Task // its container spec expanded
	name   string     // the container name, <service>.<slot>.<task id>
	deps   agent.Dependencies
	failed error             // the task's mounts are invalid or its container spec's templates did not expand
	files  *template.Context // what the task's secret and config templates see
	// hostPorts are the ports the task's service publishes in host mode.
	hostPorts []swarm.PortConfig
}

// filesDir is where the task's secret and config files live.
func (c *controller) filesDir() string { return filepath.Join(c.e.filesDir, c.task.ID) }

var (
	_ agent.Controller              = (*controller)(nil)
	_ agent.Readiness               = (*controller)(nil)
	_ agent.ContainerStatusReporter = (*controller)(nil)
	_ agent.PortStatusReporter      = (*controller)(nil)
)

func (c *controller) Prepare(ctx context.Context) error {
	if c.failed != nil {
		return c.failed
	}
	if _, err := c.e.rt.Get(c.name); err == nil {
		return nil // made before a restart of shoald
	}
	auth, err := c.auth(ctx)
	if err != nil {
		return err
	}
	img, err := c.e.images.EnsureImage(ctx, c.task.Spec.ContainerSpec.Image, auth)
	if err != nil {
		return err
	}
	spec, err := containerSpec(c.task, c.name, newContainerID(), img)
	if err != nil {
		return err
	}
	// The secret and config files are made empty here, for the container's mounts; Start fills them.
	mounts, err := writeTaskFiles(c.filesDir(), taskFiles(c.task.Spec.ContainerSpec))
	if err != nil {
		return err
	}
	spec.Mounts = append(spec.Mounts, mounts...)
	if c.e.nets != nil && spec.NetNS != "host" {
		ns, err := c.e.nets.Attach(ctx, c.task, c.hostPorts, dnsUpstream(c.task.Spec.ContainerSpec.DNSConfig))
		if err != nil {
			return err
		}
		if ns != "" {
			spec.NetNS = ns
			if eps := endpoints(c.task, c.name, spec.ID); len(eps) > 0 {
				spec.DNS = embeddedDNS(spec.DNS) // service discovery on overlay networks
				spec.Networks = eps
			}
		}
	}
	if _, err = c.e.rt.Create(ctx, spec); err != nil && c.e.nets != nil {
		c.e.nets.Detach(c.task.ID)
	}
	return err
}

// auth is the registry auth of the task's service (--with-registry-auth), which the managers keep
// with the service and give only to nodes that run its tasks.
func (c *controller) auth(ctx context.Context) (*registry.AuthConfig, error) {
	if c.deps == nil {
		return nil, nil
	}
	enc, err := c.deps.RegistryAuth(ctx, c.task.ServiceID)
	if err != nil || enc == "" {
		return nil, err
	}
	return image.DecodeRegistryAuth(enc)
}

// Start writes the task's secret and config files, expanding their templates, and starts the
// container. Errors read as Docker's: "starting container failed: ...".
func (c *controller) Start(ctx context.Context) error {
	if err := c.start(ctx); err != nil {
		return fmt.Errorf("starting container failed: %w", err)
	}
	return nil
}

func (c *controller) start(ctx context.Context) error {
	if c.failed != nil {
		return c.failed
	}
	files := taskFiles(c.task.Spec.ContainerSpec)
	if err := fillTaskFiles(ctx, files, c.task.Spec.ContainerSpec, c.deps, c.files); err != nil {
		return err
	}
	if _, err := writeTaskFiles(c.filesDir(), files); err != nil {
		return err
	}
	return c.e.rt.Start(ctx, c.name)
}

// Wait waits for the container to exit. A running container that its health check finds
// unhealthy is stopped, and its task fails with a HealthError, as Docker's executor does.
func (c *controller) Wait(ctx context.Context) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	unhealthy := make(chan struct{}, 1)
	go c.stopWhenUnhealthy(wctx, unhealthy)
	code, oom, err := c.e.rt.Wait(ctx, c.name)
	if err != nil {
		return err
	}
	select {
	case <-unhealthy:
		return &agent.HealthError{}
	default:
	}
	if oom && code == 0 {
		code = 137
	}
	if code != 0 {
		return &agent.ExitError{Code: code}
	}
	return nil
}

// healthPoll is how often a running container's health is looked at.
const healthPoll = 250 * time.Millisecond

// stopWhenUnhealthy shuts the container down once it runs and is unhealthy, after telling
// unhealthy; it returns when ctx ends or the container is not running any more.
func (c *controller) stopWhenUnhealthy(ctx context.Context, unhealthy chan<- struct{}) {
	tick := time.NewTicker(healthPoll)
	defer tick.Stop()
	for {
		ct, err := c.e.rt.Get(c.name)
		if err != nil || ct.State.Status != container.StatusRunning || ct.State.Health == nil {
			return
		}
		if ct.State.Health.Status == containertypes.Unhealthy {
			unhealthy <- struct{}{}
			_ = c.Shutdown(ctx)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (c *controller) Shutdown(ctx context.Context) error {
	grace := 10 * time.Second
	if g := c.task.Spec.ContainerSpec.StopGracePeriod; g != nil {
		grace = *g
	}
	if c.e.nets != nil {
		// out of the services' load balancing first, so that no new connection reaches a
		// container that is stopping (bounded: the manager may be gone)
		dctx, cancel := context.WithTimeout(ctx, drainLimit)
		c.e.nets.Drain(dctx, c.task.ID)
		cancel()
	}
	err := c.e.rt.Stop(ctx, c.name, grace)
	if errdefs.IsNotFound(err) || errdefs.IsNotModified(err) {
		return nil
	}
	return err
}

func (c *controller) Remove(ctx context.Context) error {
	defer os.RemoveAll(c.filesDir())
	err := c.e.rt.Delete(c.name)
	if errdefs.IsNotFound(err) {
		err = nil
	}
	if err == nil && c.e.nets != nil {
		c.e.nets.Detach(c.task.ID)
	}
	return err
}

func (c *controller) State(ctx context.Context) (agent.ContainerState, error) {
	ct, err := c.e.rt.Get(c.name)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return agent.ContainerMissing, nil
		}
		return agent.ContainerMissing, err
	}
	switch ct.State.Status {
	case container.StatusRunning:
		return agent.ContainerRunning, nil
	case container.StatusExited:
		return agent.ContainerExited, nil
	}
	return agent.ContainerCreated, nil
}

// Healthy waits for a container with a health check to turn healthy; without one it returns at once.
func (c *controller) Healthy(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ct, err := c.e.rt.Get(c.name)
		if err != nil {
			return err
		}
		if ct.State.Status == container.StatusExited {
			return nil // Wait reports the exit
		}
		h := ct.State.Health
		switch {
		case h == nil:
			return nil
		case h.Status == containertypes.Healthy:
			return nil
		case h.Status == containertypes.Unhealthy:
			return &agent.HealthError{}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// PortStatus implements agent.PortStatusReporter: the host-mode ports the node forwards to the
// container, as Docker reports them (what `docker service ps` shows under PORTS).
func (c *controller) PortStatus() swarm.PortStatus {
	if c.e.nets == nil && !hostNetwork(c.task) {
		return swarm.PortStatus{} // nothing forwards them
	}
	return swarm.PortStatus{Ports: c.hostPorts}
}

func (c *controller) ContainerStatus() *swarm.ContainerStatus {
	ct, err := c.e.rt.Get(c.name)
	if err != nil {
		return nil
	}
	return &swarm.ContainerStatus{ContainerID: ct.ID, PID: ct.State.Pid, ExitCode: ct.State.ExitCode}
}

// drainLimit bounds how long a task's shutdown waits to leave the load balancing.
const drainLimit = 2 * time.Second

func newContainerID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
