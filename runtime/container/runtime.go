package container

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/opencontainers/runc/libcontainer"
)

// Options configure a Runtime.
type Options struct {
	// ExecRoot holds runtime state that a reboot clears (libcontainer state in runtime/,
	// the log FIFOs). Required.
	ExecRoot string
	// DataRoot holds containers/ (config, logs, rootfs) and volumes/. Required.
	DataRoot string
	// Logger receives the Runtime's own diagnostics; nil discards them.
	Logger *slog.Logger
	// CgroupParent is the cgroup under which each container gets <CgroupParent>/<id>.
	// Default "shoal".
	CgroupParent string
	// InitPath is the binary bind-mounted at /sbin/docker-init for Spec.Init: a static build of
	// this program (see InitIfChild) or a tini-compatible binary. Default: this executable.
	InitPath string
	// OnEvent, if set, is called for every container event, from the Runtime's goroutines
	// and in order per container, sometimes with the container's lock held: it must return
	// quickly and must not call back into the Runtime.
	OnEvent func(Event)
}

// Event is something that happened to a container.
type Event struct {
	ID     string
	Action string // "create", "start", "kill", "die", "oom", "stop", "restart", "pause", "unpause", "health_status", "destroy", "exec_create", "exec_start", "exec_die"
	Time   time.Time
	// ExitCode is set for "die".
	ExitCode int
	// Health is set for "health_status": healthy, unhealthy or starting.
	Health containertypes.HealthStatus
	// Signal is set for "kill": the signal's number.
	Signal int
	// ExecID and ExecCmd are set for "exec_create", "exec_start" and "exec_die" (with ExitCode).
	ExecID  string
	ExecCmd []string
	// ExecDuration is set for "die": how long the container ran.
	ExecDuration time.Duration
	// Name, Image and Labels describe the container when the event happened (see event.go), so
	// that a "destroy" still says which container it was.
	Name   string
	Image  string
	Labels map[string]string
}

// Runtime runs and adopts the containers of one node. Its methods are safe for concurrent use.
// Every method that takes a container reference accepts a full ID, a unique ID prefix or a name.
type Runtime struct {
	opts   Options
	log    *slog.Logger
	lcRoot string
	swap   bool

	mu   sync.Mutex
	ctrs map[string]*ctr

	volMu      sync.Mutex
	volHolders map[string]map[string]bool // volume with options -> IDs of the containers using it
	volRefs    map[string]map[string]bool // volume -> IDs of the containers that mount it (any state)

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines
}

// New opens the runtime state under opts.ExecRoot and opts.DataRoot and adopts the containers
// found there: running ones are watched again (wait, logs, health), ones that exited while no
// Runtime watched them are recorded as exited.
func New(opts Options) (*Runtime, error) {
	if opts.ExecRoot == "" || opts.DataRoot == "" {
		return nil, errors.New("container runtime: ExecRoot and DataRoot are required")
	}
	if opts.CgroupParent == "" {
		opts.CgroupParent = "shoal"
	}
	opts.CgroupParent = strings.Trim(opts.CgroupParent, "/")
	if opts.InitPath == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("container runtime: find own executable: %w", err)
		}
		opts.InitPath = exe
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{
		opts:   opts,
		log:    log,
		lcRoot: filepath.Join(opts.ExecRoot, "runtime"),
		swap:   swapLimitSupported(),
		ctrs:   map[string]*ctr{},

		volHolders: map[string]map[string]bool{},
		volRefs:    map[string]map[string]bool{},
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for _, d := range []string{r.lcRoot, filepath.Join(opts.ExecRoot, "containers"),
		filepath.Join(opts.DataRoot, "containers"), filepath.Join(opts.DataRoot, "volumes")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("container runtime: %w", err)
		}
	}
	if isDynamicELF(opts.InitPath) {
		log.Warn("the container init binary is dynamically linked: Spec.Init works only in images that hold its loader and libraries; build shoald statically or set InitPath", "path", opts.InitPath)
	}
	if !SeccompEnabled {
		log.Warn("built without seccomp support (build tag \"seccomp\"): containers run without a seccomp profile")
	}
	if err := r.adoptAll(); err != nil {
		r.Close()
		return nil, err
	}
	r.unmountIdleVolumes()
	return r, nil
}

// isDynamicELF reports whether path is an ELF executable that needs a program interpreter.
func isDynamicELF(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// Close stops the Runtime's goroutines (log copying, health checks, exit watching) and
// leaves every container as it is: running containers go on running, and a new Runtime on
// the same directories adopts them. Close does not wait for calls in progress.
func (r *Runtime) Close() error {
	r.cancel()
	r.mu.Lock()
	ctrs := make([]*ctr, 0, len(r.ctrs))
	for _, c := range r.ctrs {
		ctrs = append(ctrs, c)
	}
	r.mu.Unlock()
	for _, c := range ctrs {
		c.mu.Lock()
		if c.run != nil {
			c.run.detach()
		}
		c.mu.Unlock()
	}
	r.wg.Wait()
	for _, c := range ctrs {
		c.logs.close()
	}
	return nil
}

func (r *Runtime) containerDir(id string) string {
	return filepath.Join(r.opts.DataRoot, "containers", id)
}

func (r *Runtime) runDir(id string) string {
	return filepath.Join(r.opts.ExecRoot, "containers", id)
}

func (r *Runtime) cgroupsPath(id string) string {
	return "/" + r.opts.CgroupParent + "/" + id
}

// emit sends an event with what describe adds; the container's c.mu must not be held (see
// emitLocked).
func (r *Runtime) emit(ev Event) {
	if r.opts.OnEvent != nil {
		if ev.Time.IsZero() {
			ev.Time = time.Now()
		}
		r.describe(&ev)
		r.opts.OnEvent(ev)
	}
}

// lookup finds a container by full ID, name or unique ID prefix.
func (r *Runtime) lookup(ref string) (*ctr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ref == "" {
		return nil, errNotFound(ref)
	}
	if c, ok := r.ctrs[ref]; ok && c.ready {
		return c, nil
	}
	name := strings.TrimPrefix(ref, "/")
	for _, c := range r.ctrs {
		if c.ready && c.name == name {
			return c, nil
		}
	}
	var found *ctr
	for id, c := range r.ctrs {
		if c.ready && strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, errAmbiguous(ref)
			}
			found = c
		}
	}
	if found == nil {
		return nil, errNotFound(ref)
	}
	return found, nil
}

// Get returns a snapshot of one container.
func (r *Runtime) Get(ref string) (*Container, error) {
	c, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return r.snapshot(c), nil
}

// List returns snapshots of all containers, oldest first.
func (r *Runtime) List() []*Container {
	r.mu.Lock()
	ctrs := make([]*ctr, 0, len(r.ctrs))
	for _, c := range r.ctrs {
		if c.ready {
			ctrs = append(ctrs, c)
		}
	}
	r.mu.Unlock()
	out := make([]*Container, 0, len(ctrs))
	for _, c := range ctrs {
		c.mu.Lock()
		out = append(out, r.snapshot(c))
		c.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// snapshot copies c's data; c.mu is held.
func (r *Runtime) snapshot(c *ctr) *Container {
	dir := r.containerDir(c.id)
	return &Container{
		ID:             c.id,
		Name:           c.name,
		Created:        c.meta.Created,
		Spec:           cloneSpec(c.meta.Spec),
		State:          cloneState(c.meta.State),
		RootfsPath:     c.meta.Mounts.Rootfs,
		UpperDir:       filepath.Join(dir, "diff"),
		LogPath:        c.logs.path, // "" for the log driver "none"
		HostnamePath:   c.meta.Mounts.Hostname,
		HostsPath:      c.meta.Mounts.Hosts,
		ResolvConfPath: c.meta.Mounts.ResolvConf,
		Volumes:        maps.Clone(c.meta.Mounts.Volumes),
	}
}

// ctr is the Runtime's record of one container.
type ctr struct {
	id    string
	name  string
	dir   string
	logs  *jsonLog
	ready bool // guarded by Runtime.mu: Create has finished

	mu       sync.Mutex
	meta     meta
	run      *run // the current or last run; nil before the first start
	removing bool
}

// save persists c.meta; c.mu is held.
func (c *ctr) save() error {
	return saveMeta(c.dir, &c.meta)
}

// libcontainerState returns the libcontainer container of a running container; c.mu is held.
func (c *ctr) running() (*run, bool) {
	if c.run == nil || c.meta.State.Status != StatusRunning {
		return nil, false
	}
	return c.run, true
}

// loadLibcontainer returns libcontainer's view of a container, or nil if it has no state.
func (r *Runtime) loadLibcontainer(id string) *libcontainer.Container {
	lc, err := libcontainer.Load(r.lcRoot, id)
	if err != nil {
		return nil
	}
	return lc
}
