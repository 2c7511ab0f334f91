package routes

import (
	"context"
	"io"

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
	"github.com/docker/docker/api/types/volume"
)

// ClusterBackend is the swarm manager as the routes see it. It is implemented by swarm/control.
// Every method returns errors classified with the errdefs package (github.com/docker/docker/errdefs),
// which the routes map to HTTP status codes in one place; the error text is sent to the client as is.
// Methods are safe for concurrent use.
type ClusterBackend interface {
	Init(ctx context.Context, req swarm.InitRequest) (nodeID string, err error)
	Join(ctx context.Context, req swarm.JoinRequest) error
	Leave(ctx context.Context, force bool) error
	Inspect(ctx context.Context) (swarm.Swarm, error)
	Update(ctx context.Context, version uint64, spec swarm.Spec, flags swarm.UpdateFlags) error
	GetUnlockKey(ctx context.Context) (string, error)
	UnlockSwarm(ctx context.Context, req swarm.UnlockRequest) error

	// Info fills the Swarm section of GET /info.
	Info(ctx context.Context) swarm.Info

	GetServices(ctx context.Context, opts swarm.ServiceListOptions) ([]swarm.Service, error)
	GetService(ctx context.Context, idOrName string, insertDefaults bool) (swarm.Service, error)
	CreateService(ctx context.Context, spec swarm.ServiceSpec, encodedRegistryAuth string, queryRegistry bool) (*swarm.ServiceCreateResponse, error)
	UpdateService(ctx context.Context, idOrName string, version uint64, spec swarm.ServiceSpec, opts swarm.ServiceUpdateOptions, queryRegistry bool) (*swarm.ServiceUpdateResponse, error)
	RemoveService(ctx context.Context, idOrName string) error
	// ServiceLogs streams log messages of a service's or a task's containers (selector.Services or
	// selector.Tasks). It validates everything before returning; the channel closes at the end.
	ServiceLogs(ctx context.Context, selector *backend.LogSelector, opts *container.LogsOptions) (<-chan *backend.LogMessage, error)

	GetNodes(ctx context.Context, opts swarm.NodeListOptions) ([]swarm.Node, error)
	GetNode(ctx context.Context, idOrName string) (swarm.Node, error)
	UpdateNode(ctx context.Context, idOrName string, version uint64, spec swarm.NodeSpec) error
	RemoveNode(ctx context.Context, idOrName string, force bool) error

	GetTasks(ctx context.Context, opts swarm.TaskListOptions) ([]swarm.Task, error)
	GetTask(ctx context.Context, id string) (swarm.Task, error)

	GetSecrets(ctx context.Context, opts swarm.SecretListOptions) ([]swarm.Secret, error)
	CreateSecret(ctx context.Context, s swarm.SecretSpec) (string, error)
	RemoveSecret(ctx context.Context, idOrName string) error
	GetSecret(ctx context.Context, idOrName string) (swarm.Secret, error)
	UpdateSecret(ctx context.Context, idOrName string, version uint64, spec swarm.SecretSpec) error

	GetConfigs(ctx context.Context, opts swarm.ConfigListOptions) ([]swarm.Config, error)
	CreateConfig(ctx context.Context, s swarm.ConfigSpec) (string, error)
	RemoveConfig(ctx context.Context, idOrName string) error
	GetConfig(ctx context.Context, idOrName string) (swarm.Config, error)
	UpdateConfig(ctx context.Context, idOrName string, version uint64, spec swarm.ConfigSpec) error

	// Swarm-scoped networks (overlay). The local bridge/host/none networks come from LocalNetworkBackend.
	GetNetworks(ctx context.Context, f filters.Args) ([]network.Inspect, error)
	GetNetwork(ctx context.Context, idOrName string) (network.Inspect, error)
	CreateNetwork(ctx context.Context, req network.CreateRequest) (id string, err error)
	RemoveNetwork(ctx context.Context, idOrName string) error
}

// SystemBackend answers GET /info and /version with the node's own facts; the routes merge in
// ClusterBackend.Info for the Swarm section. Implemented by server.
type SystemBackend interface {
	SystemInfo(ctx context.Context) (*system.Info, error)
	SystemVersion(ctx context.Context) (types.Version, error)
}

// ImageBackend is the node's image store (runtime/image).
type ImageBackend interface {
	// PullImage pulls ref (already normalised by the caller or not) and writes the JSON progress
	// stream the CLI renders (jsonmessage lines) to out. authConfig is the decoded X-Registry-Auth.
	PullImage(ctx context.Context, ref string, platform string, authConfig *registry.AuthConfig, out io.Writer) error
	// LoadImage reads a docker-archive or OCI-layout tar and writes progress/"Loaded image: x" lines to out.
	LoadImage(ctx context.Context, in io.Reader, out io.Writer, quiet bool) error
	Images(ctx context.Context, opts image.ListOptions) ([]image.Summary, error)
	ImageInspect(ctx context.Context, name string) (*image.InspectResponse, error)
	ImageDelete(ctx context.Context, name string, force, prune bool) ([]image.DeleteResponse, error)
	// Auth checks credentials against a registry (POST /auth, `docker login`): the status text to
	// show ("Login Succeeded") and an identity token when the registry gives one. Bad credentials are
	// errdefs.Unauthorized.
	Auth(ctx context.Context, cfg *registry.AuthConfig) (status, identityToken string, err error)
	// DistributionInspect answers GET /distribution/{name}/json from the registry.
	DistributionInspect(ctx context.Context, ref string, authConfig *registry.AuthConfig) (*registry.DistributionInspect, error)
	// ImagesPrune removes unused images (POST /images/prune; filters dangling, label, label!, until).
	ImagesPrune(ctx context.Context, f filters.Args) (*image.PruneReport, error)
	// LayersSize is the disk space of the stored images' layers, each counted once (GET /system/df).
	LayersSize(ctx context.Context) (int64, error)
	// TagImage points newTag (a normalised "repo:tag") at the image name designates and records the
	// tag time (POST /images/{name}/tag). A missing image is errdefs.NotFound "No such image: x".
	TagImage(ctx context.Context, name, newTag string) error
	// ImageHistory answers GET /images/{name}/history: the config's history, newest first.
	ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error)
	// ExportImage writes the `docker save` tar of the images names designate (references,
	// repository names, IDs) to out. Unknown names are errors before anything is written.
	ExportImage(ctx context.Context, names []string, out io.Writer) error
	// PushImage pushes ref ("repo:tag", or a bare repository for all its tags) and writes the JSON
	// progress stream (jsonmessage lines, aux PushResult per tag) to out. authConfig is the decoded
	// X-Registry-Auth.
	PushImage(ctx context.Context, ref string, authConfig *registry.AuthConfig, out io.Writer) error
	// PullAllTags pulls every tag of repository repo (`docker pull --all-tags`), writing the pull
	// progress stream to out as PullImage does.
	PullAllTags(ctx context.Context, repo string, platform string, authConfig *registry.AuthConfig, out io.Writer) error
}

// ContainerBackend is the node's container runtime as the container, exec and log endpoints see it.
// Implemented by the agent side (runtime/container plus the task bookkeeping).
type ContainerBackend interface {
	Containers(ctx context.Context, opts container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, name string) (*container.InspectResponse, error)
	// ContainerInspectSize is ContainerInspect with SizeRw and SizeRootFs (GET .../json?size=1).
	ContainerInspectSize(ctx context.Context, name string) (*container.InspectResponse, error)
	// ContainerWait resolves the container (a missing one is an error before any answer), then
	// sends one WaitResponse on the channel once the condition ("not-running", "next-exit",
	// "removed") holds; the wait ends with ctx.
	ContainerWait(ctx context.Context, name, condition string) (<-chan container.WaitResponse, error)
	// ContainerStart starts a stopped container: errdefs.NotModified when it runs.
	ContainerStart(ctx context.Context, name string) error
	ContainerPause(ctx context.Context, name string) error
	ContainerUnpause(ctx context.Context, name string) error
	ContainerTop(ctx context.Context, name string, psArgs string) (*container.TopResponse, error)
	ContainerStats(ctx context.Context, name string, stream bool, out io.Writer) error
	ContainerKill(ctx context.Context, name string, signal string) error
	ContainerStop(ctx context.Context, name string, timeoutSeconds *int, signal string) error
	ContainerRestart(ctx context.Context, name string, timeoutSeconds *int, signal string) error
	ContainerRemove(ctx context.Context, name string, force, removeVolumes bool) error
	// ContainersPrune removes the containers that do not run (POST /containers/prune; filters label,
	// label!, until).
	ContainersPrune(ctx context.Context, f filters.Args) (*container.PruneReport, error)
	// ContainerLogs returns the messages; the routes frame them (multiplexed unless TTY).
	ContainerLogs(ctx context.Context, name string, opts container.LogsOptions) (msgs <-chan *backend.LogMessage, tty bool, err error)

	ExecCreate(ctx context.Context, name string, cfg container.ExecOptions) (id string, err error)
	// ExecStart runs the exec attached to the hijacked connection's streams. stdin may be nil.
	// Attached, it returns when the process has exited and its output is written; stdin gives EOF
	// when the client half-closes. stdout and stderr may be the same connection (TTY) and must not be
	// used after ExecStart returns. Detached (ExecStartOptions.Detach), all three streams are nil and
	// ExecStart should return once the process has started. ctx is not cancelled when the client leaves.
	ExecStart(ctx context.Context, execID string, stdin io.Reader, stdout, stderr io.Writer) error
	ExecResize(ctx context.Context, execID string, height, width uint) error
	ExecInspect(ctx context.Context, execID string) (*container.ExecInspect, error)
}

// VolumeBackend is the node's local volumes (the local driver), implemented by runtime/containerapi.
// The routes validate the filter keys; the backend checks their values. Errors are errdefs-classified
// with dockerd's texts (NotFound "get <name>: no such volume", Conflict "remove <name>: volume is in
// use - [<ids>]"). Returned values are owned by the caller. Safe for concurrent use.
type VolumeBackend interface {
	// Volumes lists the volumes matching name, driver, label and dangling, and the warnings of the
	// listing (never nil).
	Volumes(ctx context.Context, f filters.Args) ([]*volume.Volume, []string, error)
	VolumeInspect(ctx context.Context, name string) (*volume.Volume, error)
	// VolumeCreate creates a volume (an anonymous one when req.Name is empty), or returns the one of
	// that name unchanged.
	VolumeCreate(ctx context.Context, req volume.CreateOptions) (*volume.Volume, error)
	// VolumeRemove removes an unused volume; with force a missing volume is no error.
	VolumeRemove(ctx context.Context, name string, force bool) error
	// VolumesPrune removes unused volumes: anonymous ones unless the filter all=true is given;
	// filters label and label!.
	VolumesPrune(ctx context.Context, f filters.Args) (*volume.PruneReport, error)
	// VolumesDiskUsage lists the volumes GET /system/df shows, with their UsageData.
	VolumesDiskUsage(ctx context.Context) ([]*volume.Volume, error)
}

// LocalNetworkBackend lists the node's own local-scope networks (the predefined bridge, host and none).
// GET /networks merges them with ClusterBackend.GetNetworks; GET/DELETE /networks/{id} search both.
// The routes apply Docker's network filters to this list themselves, so it returns every local network.
// The returned slice is owned by the caller. Safe for concurrent use.
type LocalNetworkBackend interface {
	LocalNetworks(ctx context.Context) ([]network.Inspect, error)
}

// NetworkEndpointsBackend is this node's own side of a swarm network, as docker network inspect
// shows it: the node's containers on it (by container ID) and the nodes that carry its traffic.
type NetworkEndpointsBackend interface {
	NetworkEndpoints(ctx context.Context, networkID string) (map[string]network.EndpointResource, []network.PeerInfo)
}

// EventsBackend is the node's event log: container, image and network events of this node and, on
// managers, swarm events (scope "swarm"). The routes apply since/until and the filters of GET /events,
// so the backend hands out every event.
type EventsBackend interface {
	// SubscribeEvents returns a copy of the buffered recent events, oldest first, and a channel that
	// receives every event published after that copy was taken (no gap, no duplicate between the two).
	// The backend closes the channel once ctx is done; it must never block its publisher on a slow
	// subscriber (dropping events for that subscriber is acceptable). Errors are errdefs-classified.
	SubscribeEvents(ctx context.Context) (buffered []events.Message, live <-chan events.Message, err error)
}
