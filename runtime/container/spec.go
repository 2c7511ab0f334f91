package container

import (
	"regexp"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// Spec is everything needed to create one container. The caller merges the image config and the
// task's ContainerSpec into it (MergeCommand and MergeEnv do Docker's merge); the Runtime adds
// Docker's defaults (PATH, HOSTNAME, HOME, TERM) and resolves the user inside the rootfs.
type Spec struct {
	ID     string            // 64 lower-case hex digits
	Name   string            // e.g. "<service>.<slot>.<taskid>"; unique among this Runtime's containers
	Labels map[string]string // stored and returned, not interpreted
	// ExposedPorts are shown in inspect's Config ("80/tcp"); they open nothing.
	ExposedPorts []string `json:",omitempty"`

	// Image is the reference the container was made from (e.g. "busybox:1" or
	// "reg/app:1@sha256:…") and ImageID the image's ID ("sha256:<hex>"). Both are stored and
	// returned, not interpreted: the image's layers are given in LowerDirs.
	Image   string `json:",omitempty"`
	ImageID string `json:",omitempty"`

	// Entrypoint + Cmd is the process's argv (see MergeCommand). At least one word is required.
	Entrypoint []string
	Cmd        []string
	Env        []string // KEY=value; image env merged with the task's (see MergeEnv)
	WorkingDir string   // absolute; created if missing; default "/"
	User       string   // "name", "uid", "name:group", "uid:gid"...; default root
	Groups     []string // supplementary groups, names or numbers

	Hostname string          // default: the first 12 characters of ID
	Hosts    []string        // extra /etc/hosts entries: "IP name [alias...]" or "name:IP"
	DNS      swarm.DNSConfig // resolv.conf; empty: the host's, without loopback nameservers

	// LowerDirs are the image's layer directories, lowest first. The container's rootfs is an
	// overlay of them with a per-container upper directory.
	LowerDirs []string
	ReadOnly  bool // read-only rootfs

	Mounts []mount.Mount // bind, volume (local driver, with its type/device/o options) and tmpfs

	Resources   Resources
	OomScoreAdj int

	CapabilityAdd  []string // "CAP_X" or "X" or "ALL"
	CapabilityDrop []string
	// NoNewPrivileges sets the no_new_privs bit on the container's processes.
	NoNewPrivileges bool
	// SeccompProfile is "" for Docker's default profile, "unconfined" for none, or a profile in
	// Docker's JSON format.
	SeccompProfile string

	Sysctls map[string]string
	Ulimits []*containertypes.Ulimit

	// Init runs a minimal init as PID 1 (this binary at /sbin/docker-init) that reaps zombies,
	// forwards signals to the command and records its exit code for a restarted shoald.
	Init bool

	StopSignal      string        // "SIGTERM", "TERM" or "15"; default SIGTERM
	StopGracePeriod time.Duration // default 10s

	// TTY gives the main process a pseudo-terminal (logged as stdout). See the package doc.
	TTY bool

	// LogConfig is the log driver and its options, as in Docker's HostConfig: Type "" or
	// "json-file" keeps the output in json-file logs (options max-size, max-file; see jsonLog),
	// "none" drops it. Other drivers and unknown options fail Create with dockerd's errors.
	LogConfig containertypes.LogConfig

	// NetNS is "" (or "none") for a new network namespace with only loopback, "host" for the
	// host's, or the path of a network namespace to join (e.g. /run/netns/x).
	NetNS string
	// Networks are the networks the namespace at NetNS was plugged into (by the node's overlay data
	// plane), as inspect and ps show them; they change nothing in the container.
	Networks []NetworkEndpoint `json:",omitempty"`

	// Healthcheck is run inside the container; nil or Test ["NONE"] disables it.
	Healthcheck *containertypes.HealthConfig
}

// NetworkEndpoint is a container's place on one network.
type NetworkEndpoint struct {
	Name, NetworkID, EndpointID string
	Address                     string // "10.0.1.5/24"
	MacAddress                  string
	Aliases                     []string `json:",omitempty"` // the service's aliases on the network
	DNSNames                    []string `json:",omitempty"`
}

// Resources are the container's cgroup limits. Zero means no limit.
type Resources struct {
	NanoCPUs    int64 // 1e9 = one CPU (CFS quota over a 100ms period)
	MemoryBytes int64 // memory limit; swap is limited to the same amount again, as Docker does
	PidsLimit   int64
}

// ExecSpec describes a process to run in a running container (Exec).
type ExecSpec struct {
	Cmd        []string
	Env        []string // merged over the container's environment
	User       string   // default: the container's user
	WorkingDir string   // default: the container's working directory
	Tty        bool
	Privileged bool // every capability, as docker exec --privileged
	// ConsoleSize is the initial terminal size {height, width} when Tty is set.
	ConsoleSize [2]uint
	// OnStart, if set, is called with the host PID of the process once it has started.
	OnStart func(pid int) `json:"-"`
}

// MergeCommand merges an image's Entrypoint and Cmd with a task's Command and Args the way Docker
// does: Command replaces the image's Entrypoint (and then the image's Cmd is dropped), Args
// replaces the Cmd.
func MergeCommand(imageEntrypoint, imageCmd, command, args []string) (entrypoint, cmd []string) {
	if len(command) > 0 {
		return command, args
	}
	if len(args) > 0 {
		return imageEntrypoint, args
	}
	return imageEntrypoint, imageCmd
}

// MergeEnv returns base with each KEY=value of overrides replacing the same KEY, or appended.
// A bare "KEY" in overrides removes KEY, as Docker does.
func MergeEnv(base, overrides []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range overrides {
		key, _, hasValue := strings.Cut(kv, "=")
		idx := -1
		for i, e := range out {
			if k, _, _ := strings.Cut(e, "="); k == key {
				idx = i
				break
			}
		}
		switch {
		case idx >= 0 && hasValue:
			out[idx] = kv
		case idx >= 0:
			out = append(out[:idx], out[idx+1:]...)
		case hasValue:
			out = append(out, kv)
		}
	}
	return out
}

var idRegexp = regexp.MustCompile(`^[0-9a-f]{64}$`)

// validate checks the parts of a spec that need no file system.
func (s *Spec) validate() error {
	if !idRegexp.MatchString(s.ID) {
		return invalidf("invalid container ID %q: must be 64 lower-case hex digits", s.ID)
	}
	if s.Name != "" && !nameRegexp.MatchString(s.Name) {
		return invalidf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", s.Name)
	}
	if len(s.Entrypoint)+len(s.Cmd) == 0 {
		return invalidf("no command specified")
	}
	if s.WorkingDir != "" && !strings.HasPrefix(s.WorkingDir, "/") {
		return invalidf("the working directory '%s' is invalid, it needs to be an absolute path", s.WorkingDir)
	}
	if len(s.LowerDirs) == 0 {
		return invalidf("no image layers given")
	}
	if _, err := ParseSignal(s.stopSignal()); err != nil {
		return err
	}
	if _, err := parseLogConfig(s.LogConfig); err != nil {
		return err
	}
	switch s.NetNS {
	case "", "none", "host":
	default:
		if !strings.HasPrefix(s.NetNS, "/") {
			return invalidf("invalid network namespace %q: want none, host or an absolute path", s.NetNS)
		}
	}
	return nil
}

var nameRegexp = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func (s *Spec) argv() []string {
	return append(append([]string(nil), s.Entrypoint...), s.Cmd...)
}

func (s *Spec) hostname() string {
	if s.Hostname != "" {
		return s.Hostname
	}
	return s.ID[:12]
}

func (s *Spec) stopSignal() string {
	if s.StopSignal == "" {
		return "SIGTERM"
	}
	return s.StopSignal
}

func (s *Spec) stopGrace() time.Duration {
	if s.StopGracePeriod > 0 {
		return s.StopGracePeriod
	}
	return 10 * time.Second
}

func (s *Spec) workingDir() string {
	if s.WorkingDir == "" {
		return "/"
	}
	return s.WorkingDir
}

// defaultPath is Docker's PATH for Linux containers whose image sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// processEnv is the main process's environment, built like Docker's CreateDaemonEnvironment.
// HOME is added by libcontainer from the container's /etc/passwd when missing.
func (s *Spec) processEnv() []string {
	env := []string{"PATH=" + defaultPath, "HOSTNAME=" + s.hostname()}
	if s.TTY {
		env = append(env, "TERM=xterm")
	}
	return MergeEnv(env, s.Env)
}
