package routes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/errdefs"
)

// fakeCluster is an in-memory ClusterBackend: objects are found by ID, name or ID prefix with
// swarmkit's error texts, and every call's arguments are recorded for the tests to inspect.
type fakeCluster struct {
	mu       sync.Mutex
	info     swarm.Info
	services []swarm.Service
	tasks    []swarm.Task
	nodes    []swarm.Node
	secrets  []swarm.Secret
	configs  []swarm.Config
	networks []network.Inspect
	logs     map[string][]*backend.LogMessage // by service or task ID

	calls []string // "Method arg..." of every mutating call
	last  struct {
		serviceOpts   swarm.ServiceListOptions
		nodeOpts      swarm.NodeListOptions
		taskOpts      swarm.TaskListOptions
		updateVersion uint64
		updateOpts    swarm.ServiceUpdateOptions
		swarmFlags    swarm.UpdateFlags
		createSpec    swarm.ServiceSpec
		encodedAuth   string
		logsOpts      container.LogsOptions
		logsSelector  backend.LogSelector
		initReq       swarm.InitRequest
		networkReq    network.CreateRequest
	}
}

func (f *fakeCluster) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// find resolves ref among (id, name) pairs: full ID, then name, then unique ID prefix.
func find(kind, ref string, ids, names []string) (int, error) {
	for i, id := range ids {
		if id == ref {
			return i, nil
		}
	}
	for i, n := range names {
		if n == ref {
			return i, nil
		}
	}
	match := -1
	for i, id := range ids {
		if strings.HasPrefix(id, ref) {
			if match >= 0 {
				return -1, errdefs.InvalidParameter(fmt.Errorf("%s %s is ambiguous (2 matches found)", kind, ref))
			}
			match = i
		}
	}
	if match < 0 {
		return -1, errdefs.NotFound(fmt.Errorf("%s %s not found", kind, ref))
	}
	return match, nil
}

func (f *fakeCluster) Init(_ context.Context, req swarm.InitRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.initReq = req
	if f.info.LocalNodeState == swarm.LocalNodeStateActive {
		return "", errdefs.Unavailable(fmt.Errorf(`This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.`))
	}
	f.info = swarm.Info{LocalNodeState: swarm.LocalNodeStateActive, ControlAvailable: true, NodeID: "node1id"}
	return "node1id", nil
}

func (f *fakeCluster) Join(_ context.Context, req swarm.JoinRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Join %v", req.RemoteAddrs)
	return nil
}

func (f *fakeCluster) Leave(_ context.Context, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Leave %v", force)
	return nil
}

func (f *fakeCluster) Inspect(context.Context) (swarm.Swarm, error) {
	return swarm.Swarm{ClusterInfo: swarm.ClusterInfo{ID: "clusterid", Meta: swarm.Meta{Version: swarm.Version{Index: 7}}}}, nil
}

func (f *fakeCluster) Update(_ context.Context, version uint64, _ swarm.Spec, flags swarm.UpdateFlags) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.updateVersion, f.last.swarmFlags = version, flags
	return nil
}

func (f *fakeCluster) GetUnlockKey(context.Context) (string, error) { return "SWMKEY-1-x", nil }

func (f *fakeCluster) UnlockSwarm(context.Context, swarm.UnlockRequest) error {
	return errdefs.Conflict(fmt.Errorf("swarm is not locked"))
}

func (f *fakeCluster) Info(context.Context) swarm.Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info
}

func (f *fakeCluster) GetServices(_ context.Context, opts swarm.ServiceListOptions) ([]swarm.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.serviceOpts = opts
	var out []swarm.Service // nil when empty: the routes must still answer []
	for _, s := range f.services {
		if opts.Filters.Contains("name") && !opts.Filters.ExactMatch("name", s.Spec.Name) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func (f *fakeCluster) serviceIndex(ref string) (int, error) {
	ids, names := make([]string, len(f.services)), make([]string, len(f.services))
	for i, s := range f.services {
		ids[i], names[i] = s.ID, s.Spec.Name
	}
	return find("service", ref, ids, names)
}

func (f *fakeCluster) GetService(_ context.Context, ref string, _ bool) (swarm.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.serviceIndex(ref)
	if err != nil {
		return swarm.Service{}, err
	}
	return f.services[i], nil
}

func (f *fakeCluster) CreateService(_ context.Context, spec swarm.ServiceSpec, auth string, _ bool) (*swarm.ServiceCreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.createSpec, f.last.encodedAuth = spec, auth
	if spec.TaskTemplate.ContainerSpec == nil || spec.TaskTemplate.ContainerSpec.Image == "" {
		return nil, errdefs.InvalidParameter(fmt.Errorf("ContainerSpec: image reference must be provided"))
	}
	for _, s := range f.services {
		if s.Spec.Name == spec.Name {
			return nil, errdefs.Conflict(fmt.Errorf("rpc error: code = AlreadyExists desc = name conflicts with an existing object: service %s already exists", spec.Name))
		}
	}
	id := fmt.Sprintf("svc%022d", len(f.services)+1)
	f.services = append(f.services, swarm.Service{ID: id, Spec: spec, Meta: swarm.Meta{Version: swarm.Version{Index: 10}}})
	return &swarm.ServiceCreateResponse{ID: id}, nil
}

func (f *fakeCluster) UpdateService(_ context.Context, ref string, version uint64, spec swarm.ServiceSpec, opts swarm.ServiceUpdateOptions, _ bool) (*swarm.ServiceUpdateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.updateVersion, f.last.updateOpts = version, opts
	i, err := f.serviceIndex(ref)
	if err != nil {
		return nil, err
	}
	if f.services[i].Version.Index != version {
		return nil, fmt.Errorf("rpc error: code = Unknown desc = update out of sequence")
	}
	f.services[i].Spec = spec
	f.services[i].Version.Index++
	return &swarm.ServiceUpdateResponse{}, nil
}

func (f *fakeCluster) RemoveService(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.serviceIndex(ref)
	if err != nil {
		return err
	}
	f.services = append(f.services[:i], f.services[i+1:]...)
	return nil
}

func (f *fakeCluster) ServiceLogs(ctx context.Context, sel *backend.LogSelector, opts *container.LogsOptions) (<-chan *backend.LogMessage, error) {
	f.mu.Lock()
	f.last.logsSelector, f.last.logsOpts = *sel, *opts
	var msgs []*backend.LogMessage
	for _, ref := range append(append([]string{}, sel.Services...), sel.Tasks...) {
		id := ref
		if i, err := f.serviceIndex(ref); err == nil {
			id = f.services[i].ID
		}
		msgs = append(msgs, f.logs[id]...)
	}
	f.mu.Unlock()
	ch := make(chan *backend.LogMessage)
	go func() {
		defer close(ch)
		for _, m := range msgs {
			cp := *m
			cp.Attrs = append([]backend.LogAttr(nil), m.Attrs...)
			select {
			case ch <- &cp:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (f *fakeCluster) GetNodes(_ context.Context, opts swarm.NodeListOptions) ([]swarm.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.nodeOpts = opts
	return f.nodes, nil
}

func (f *fakeCluster) GetNode(_ context.Context, ref string) (swarm.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids, names := make([]string, len(f.nodes)), make([]string, len(f.nodes))
	for i, n := range f.nodes {
		ids[i], names[i] = n.ID, n.Description.Hostname
	}
	i, err := find("node", ref, ids, names)
	if err != nil {
		return swarm.Node{}, err
	}
	return f.nodes[i], nil
}

func (f *fakeCluster) UpdateNode(_ context.Context, ref string, version uint64, spec swarm.NodeSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("UpdateNode %s %d %s", ref, version, spec.Availability)
	return nil
}

func (f *fakeCluster) RemoveNode(_ context.Context, ref string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveNode %s %v", ref, force)
	return nil
}

func (f *fakeCluster) GetTasks(_ context.Context, opts swarm.TaskListOptions) ([]swarm.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.taskOpts = opts
	return f.tasks, nil
}

func (f *fakeCluster) GetTask(_ context.Context, ref string) (swarm.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, len(f.tasks))
	for i, t := range f.tasks {
		ids[i] = t.ID
	}
	i, err := find("task", ref, ids, nil)
	if err != nil {
		return swarm.Task{}, err
	}
	return f.tasks[i], nil
}

func (f *fakeCluster) GetSecrets(context.Context, swarm.SecretListOptions) ([]swarm.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secrets, nil
}

func (f *fakeCluster) CreateSecret(_ context.Context, spec swarm.SecretSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("sec%022d", len(f.secrets)+1)
	f.secrets = append(f.secrets, swarm.Secret{ID: id, Spec: spec})
	return id, nil
}

func (f *fakeCluster) RemoveSecret(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveSecret %s", ref)
	for i, s := range f.secrets {
		if s.ID == ref || s.Spec.Name == ref {
			f.secrets = append(f.secrets[:i], f.secrets[i+1:]...)
			return nil
		}
	}
	return errdefs.NotFound(fmt.Errorf("secret %s not found", ref))
}

func (f *fakeCluster) GetSecret(_ context.Context, ref string) (swarm.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.secrets {
		if s.ID == ref || s.Spec.Name == ref {
			return s, nil
		}
	}
	return swarm.Secret{}, errdefs.NotFound(fmt.Errorf("secret %s not found", ref))
}

func (f *fakeCluster) UpdateSecret(_ context.Context, ref string, version uint64, _ swarm.SecretSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("UpdateSecret %s %d", ref, version)
	return nil
}

func (f *fakeCluster) GetConfigs(context.Context, swarm.ConfigListOptions) ([]swarm.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.configs, nil
}

func (f *fakeCluster) CreateConfig(_ context.Context, spec swarm.ConfigSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("cfg%022d", len(f.configs)+1)
	f.configs = append(f.configs, swarm.Config{ID: id, Spec: spec})
	return id, nil
}

func (f *fakeCluster) RemoveConfig(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveConfig %s", ref)
	return nil
}

func (f *fakeCluster) GetConfig(_ context.Context, ref string) (swarm.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.configs {
		if c.ID == ref || c.Spec.Name == ref {
			return c, nil
		}
	}
	return swarm.Config{}, errdefs.NotFound(fmt.Errorf("config %s not found", ref))
}

func (f *fakeCluster) UpdateConfig(_ context.Context, ref string, version uint64, _ swarm.ConfigSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("UpdateConfig %s %d", ref, version)
	return nil
}

func (f *fakeCluster) GetNetworks(_ context.Context, _ filters.Args) ([]network.Inspect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]network.Inspect(nil), f.networks...), nil
}

func (f *fakeCluster) GetNetwork(_ context.Context, ref string) (network.Inspect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids, names := make([]string, len(f.networks)), make([]string, len(f.networks))
	for i, n := range f.networks {
		ids[i], names[i] = n.ID, n.Name
	}
	i, err := find("network", ref, ids, names)
	if err != nil {
		return network.Inspect{}, err
	}
	return f.networks[i], nil
}

func (f *fakeCluster) CreateNetwork(_ context.Context, req network.CreateRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.networkReq = req
	id := fmt.Sprintf("net%022d", len(f.networks)+1)
	f.networks = append(f.networks, network.Inspect{ID: id, Name: req.Name, Driver: req.Driver, Scope: "swarm", Labels: req.Labels})
	return id, nil
}

func (f *fakeCluster) RemoveNetwork(_ context.Context, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveNetwork %s", ref)
	for i, n := range f.networks {
		if n.ID == ref {
			if len(n.Services) > 0 {
				return errdefs.InvalidParameter(fmt.Errorf("network %s is in use by service x", n.ID))
			}
			f.networks = append(f.networks[:i], f.networks[i+1:]...)
			return nil
		}
	}
	return errdefs.NotFound(fmt.Errorf("network %s not found", ref))
}

// fakeLocalNetworks is the node's bridge, host and none.
type fakeLocalNetworks struct{}

func (fakeLocalNetworks) LocalNetworks(context.Context) ([]network.Inspect, error) {
	return []network.Inspect{
		{ID: "b1b1b1b1b1b1", Name: "bridge", Driver: "bridge", Scope: "local"},
		{ID: "h2h2h2h2h2h2", Name: "host", Driver: "host", Scope: "local"},
		{ID: "n3n3n3n3n3n3", Name: "none", Driver: "null", Scope: "local"},
	}, nil
}

// fakeSystem answers /info and /version.
type fakeSystem struct{}

func (fakeSystem) SystemInfo(context.Context) (*system.Info, error) {
	return &system.Info{
		ID: "sysid", Containers: 2, Images: 3, Driver: "overlay2", Name: "testhost",
		ServerVersion: "test-1.0", OperatingSystem: "shoal test", OSType: "linux", Architecture: "x86_64",
		NCPU: 2, MemTotal: 1 << 30, DockerRootDir: "/var/lib/shoal", LoggingDriver: "json-file",
		CgroupDriver: "systemd", CgroupVersion: "2", KernelVersion: "6.1.0",
		Warnings:   []string{"WARNING: from system"},
		Containerd: &system.ContainerdInfo{Address: "/run/x"},
	}, nil
}

func (fakeSystem) SystemVersion(context.Context) (types.Version, error) {
	return types.Version{Version: "test-1.0", GitCommit: "abc123", KernelVersion: "6.1.0",
		Components: []types.ComponentVersion{{Name: "Engine", Version: "test-1.0"}}}, nil
}

// fakeImages is an image store that pulls by writing progress lines; "fail/early" fails before any
// output, "fail/late" after some.
type fakeImages struct {
	mu           sync.Mutex
	pulled       []string
	distRef      string
	distAuth     *registry.AuthConfig
	inspectRef   string
	pruneFilters filters.Args
	more         fakeImagesMore // tag, history, save, push (images_more_test.go)
}

func (f *fakeImages) PullImage(_ context.Context, ref, _ string, _ *registry.AuthConfig, out io.Writer) error {
	f.mu.Lock()
	f.pulled = append(f.pulled, ref)
	f.mu.Unlock()
	if strings.Contains(ref, "fail/early") {
		return errdefs.NotFound(fmt.Errorf("pull access denied for fail/early"))
	}
	fmt.Fprintf(out, "{\"status\":\"Pulling from %s\"}\r\n", ref)
	if strings.Contains(ref, "fail/late") {
		return fmt.Errorf("unexpected EOF while downloading")
	}
	fmt.Fprintf(out, "{\"status\":\"Status: Downloaded newer image for %s\"}\r\n", ref)
	return nil
}

func (f *fakeImages) LoadImage(_ context.Context, in io.Reader, out io.Writer, _ bool) error {
	b, _ := io.ReadAll(in)
	if string(b) != "tarball" {
		return fmt.Errorf("unexpected EOF")
	}
	fmt.Fprintf(out, "{\"stream\":\"Loaded image: x:1\\n\"}\r\n")
	return nil
}

func (f *fakeImages) Images(context.Context, image.ListOptions) ([]image.Summary, error) {
	return []image.Summary{{ID: "sha256:aaa"}}, nil
}

func (f *fakeImages) ImageInspect(_ context.Context, name string) (*image.InspectResponse, error) {
	f.mu.Lock()
	f.inspectRef = name
	f.mu.Unlock()
	if name == "missing" {
		return nil, errdefs.NotFound(fmt.Errorf("No such image: missing"))
	}
	return &image.InspectResponse{ID: "sha256:bbb"}, nil
}

func (f *fakeImages) ImageDelete(_ context.Context, name string, _, _ bool) ([]image.DeleteResponse, error) {
	return []image.DeleteResponse{{Untagged: name}}, nil
}

// ImagesPrune deletes nothing and records the filters; "dangling=false" reports one deleted image.
func (f *fakeImages) ImagesPrune(_ context.Context, fl filters.Args) (*image.PruneReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneFilters = fl
	if fl.Contains("dangling") && fl.ExactMatch("dangling", "false") {
		return &image.PruneReport{ImagesDeleted: []image.DeleteResponse{{Untagged: "old:1"}, {Deleted: "sha256:" + strings.Repeat("e", 64)}}, SpaceReclaimed: 2048}, nil
	}
	return &image.PruneReport{}, nil
}

func (f *fakeImages) LayersSize(context.Context) (int64, error) { return 4096, nil }

func (f *fakeImages) Auth(_ context.Context, cfg *registry.AuthConfig) (string, string, error) {
	if cfg.Username == "user" && cfg.Password == "pass" {
		return "Login Succeeded", "", nil
	}
	return "", "", errdefs.Unauthorized(errors.New("Get \"http://" + cfg.ServerAddress + "/v2/\": unauthorized: incorrect username or password"))
}

func (f *fakeImages) DistributionInspect(_ context.Context, ref string, auth *registry.AuthConfig) (*registry.DistributionInspect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.distRef, f.distAuth = ref, auth
	return &registry.DistributionInspect{}, nil
}

// fakeContainers is a container runtime whose execs run a few built-in commands: "cat" copies stdin,
// "echo" prints its arguments, "fail" writes to stderr and exits 3.
type fakeContainers struct {
	mu      sync.Mutex
	execs   map[string]*container.ExecInspect
	cmds    map[string][]string
	logs    []*backend.LogMessage
	tty     bool
	resized string
	gate    chan struct{} // waitGate

	list         []container.Summary // what Containers answers
	listOpts     container.ListOptions
	pruned       []string // what ContainersPrune reports
	pruneFilters filters.Args
}

func (f *fakeContainers) Containers(_ context.Context, opts container.ListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listOpts = opts
	return append([]container.Summary(nil), f.list...), nil
}

func (f *fakeContainers) ContainerInspect(_ context.Context, name string) (*container.InspectResponse, error) {
	if name != "c1" {
		return nil, errdefs.NotFound(fmt.Errorf("No such container: %s", name))
	}
	return &container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: "c1", Name: "/c1", State: &container.State{Running: true, Status: "running"}},
		Config:            &container.Config{},
	}, nil
}

func (f *fakeContainers) ContainerTop(context.Context, string, string) (*container.TopResponse, error) {
	return &container.TopResponse{Titles: []string{"PID"}, Processes: [][]string{{"1"}}}, nil
}

func (f *fakeContainers) ContainerStats(_ context.Context, name string, _ bool, out io.Writer) error {
	if name != "c1" {
		return errdefs.NotFound(fmt.Errorf("No such container: %s", name))
	}
	_, err := io.WriteString(out, "{\"id\":\"c1\"}\n")
	return err
}

func (f *fakeContainers) ContainerKill(_ context.Context, name, _ string) error {
	if name != "c1" {
		return errdefs.NotFound(fmt.Errorf("No such container: %s", name))
	}
	return nil
}

func (f *fakeContainers) ContainerStop(_ context.Context, name string, _ *int, _ string) error {
	if name == "stopped" {
		return errdefs.NotModified(fmt.Errorf("container already stopped"))
	}
	return nil
}

// ContainersPrune records the filters and reports the stopped containers of f.pruned as deleted.
func (f *fakeContainers) ContainersPrune(_ context.Context, fl filters.Args) (*container.PruneReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneFilters = fl
	rep := &container.PruneReport{ContainersDeleted: f.pruned}
	if len(f.pruned) > 0 {
		rep.SpaceReclaimed = 1536
	}
	return rep, nil
}

func (f *fakeContainers) ContainerRestart(context.Context, string, *int, string) error { return nil }
func (f *fakeContainers) ContainerRemove(context.Context, string, bool, bool) error    { return nil }

func (f *fakeContainers) ContainerLogs(ctx context.Context, _ string, _ container.LogsOptions) (<-chan *backend.LogMessage, bool, error) {
	ch := make(chan *backend.LogMessage)
	go func() {
		defer close(ch)
		for _, m := range f.logs {
			select {
			case ch <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, f.tty, nil
}

func (f *fakeContainers) ExecCreate(_ context.Context, name string, cfg container.ExecOptions) (string, error) {
	if name != "c1" {
		return "", errdefs.NotFound(fmt.Errorf("No such container: %s", name))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.execs == nil {
		f.execs, f.cmds = map[string]*container.ExecInspect{}, map[string][]string{}
	}
	id := fmt.Sprintf("exec%d", len(f.execs)+1)
	f.execs[id] = &container.ExecInspect{ExecID: id, ContainerID: "c1"}
	f.cmds[id] = cfg.Cmd
	return id, nil
}

func (f *fakeContainers) ExecStart(_ context.Context, id string, stdin io.Reader, stdout, stderr io.Writer) error {
	f.mu.Lock()
	cmd := f.cmds[id]
	e := f.execs[id]
	f.mu.Unlock()
	if stdout == nil { // detached
		stdout, stderr = io.Discard, io.Discard
	}
	exit := 0
	switch cmd[0] {
	case "cat":
		if stdin != nil {
			_, _ = io.Copy(stdout, stdin)
		}
	case "echo":
		fmt.Fprintln(stdout, strings.Join(cmd[1:], " "))
	case "fail":
		fmt.Fprintln(stderr, "failing on purpose")
		exit = 3
	case "error":
		return fmt.Errorf("exec failed: no such binary")
	}
	f.mu.Lock()
	e.ExitCode = exit
	f.mu.Unlock()
	return nil
}

func (f *fakeContainers) ExecResize(_ context.Context, id string, h, w uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resized = fmt.Sprintf("%s %dx%d", id, h, w)
	return nil
}

func (f *fakeContainers) ExecInspect(_ context.Context, id string) (*container.ExecInspect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.execs[id]
	if !ok {
		return nil, errdefs.NotFound(fmt.Errorf("No such exec instance: %s", id))
	}
	cp := *e
	return &cp, nil
}

// fakeEvents keeps a buffer of past events and fans out published ones.
type fakeEvents struct {
	mu       sync.Mutex
	buffered []events.Message
	subs     []chan events.Message
	changed  chan struct{} // signalled when subscribers come and go
}

func newFakeEvents() *fakeEvents { return &fakeEvents{changed: make(chan struct{}, 1)} }

func (f *fakeEvents) notify() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// waitSubscribers waits until there are n subscribers, failing after a deadline.
func (f *fakeEvents) waitSubscribers(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for f.subscribers() != n {
		select {
		case <-f.changed:
		case <-deadline:
			t.Fatalf("waited for %d subscribers, have %d", n, f.subscribers())
		}
	}
}

func (f *fakeEvents) SubscribeEvents(ctx context.Context) ([]events.Message, <-chan events.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan events.Message, 16)
	f.subs = append(f.subs, ch)
	f.notify()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, c := range f.subs {
			if c == ch {
				f.subs = append(f.subs[:i], f.subs[i+1:]...)
				close(ch)
				f.notify()
				return
			}
		}
	}()
	return append([]events.Message(nil), f.buffered...), ch, nil
}

// publish sends ev to every subscriber and reports how many there were.
func (f *fakeEvents) publish(ev events.Message) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buffered = append(f.buffered, ev)
	for _, c := range f.subs {
		select {
		case c <- ev:
		default:
		}
	}
	return len(f.subs)
}

func (f *fakeEvents) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func eventAt(t time.Time, typ events.Type, action events.Action, id, name string) events.Message {
	return events.Message{Type: typ, Action: action, Scope: "swarm",
		Actor: events.Actor{ID: id, Attributes: map[string]string{"name": name}},
		Time:  t.Unix(), TimeNano: t.UnixNano()}
}

// swarm0 is the Swarm section of a single-node manager.
func swarm0() swarm.Info {
	return swarm.Info{NodeID: "node1id", NodeAddr: "127.0.0.1", LocalNodeState: swarm.LocalNodeStateActive,
		ControlAvailable: true, Nodes: 1, Managers: 1, Warnings: []string{"WARNING: from swarm"}}
}

func logMsg(source, line string, ts time.Time, attrs ...backend.LogAttr) *backend.LogMessage {
	return &backend.LogMessage{Source: source, Line: []byte(line), Timestamp: ts, Attrs: attrs}
}
