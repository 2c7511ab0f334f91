package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
)

// Container states, with Docker's names.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusExited  = "exited"
)

// State is a container's run state, as in Docker's container inspect.
type State struct {
	Status     string    // StatusCreated, StatusRunning or StatusExited
	Paused     bool      // a running container whose processes are frozen (Pause)
	Pid        int       // host PID of the container's first process while running, else 0
	StartedAt  time.Time // zero before the first start
	FinishedAt time.Time // zero before the first exit
	ExitCode   int
	OOMKilled  bool
	Error      string // why the last start failed or why the exit code is unknown
	// Health is nil when the container has no health check.
	Health *containertypes.Health `json:",omitempty"`
}

// Container is a snapshot of one container. The Runtime never changes a returned value.
type Container struct {
	ID      string
	Name    string
	Created time.Time
	Spec    Spec
	State   State

	// Host paths, as in Docker's inspect.
	RootfsPath     string // the overlay mount
	UpperDir       string // the container's writable layer
	LogPath        string // the current json-file log file; "" for the log driver "none"
	HostnamePath   string
	HostsPath      string
	ResolvConfPath string
	// Volumes maps the target of each volume mount to its host directory
	// (<data-root>/volumes/<name>/_data, or a subpath of it).
	Volumes map[string]string
}

// meta is what a container's config.json holds: all that a new Runtime needs to know about it.
type meta struct {
	Spec        Spec         `json:"spec"`
	Created     time.Time    `json:"created"`
	State       State        `json:"state"`
	User        resolvedUser `json:"user"`
	Mounts      hostMounts   `json:"mounts"`
	AnonVolumes []string     `json:"anonVolumes,omitempty"`
	// VolumeNames maps the target of each volume mount to the volume's name.
	VolumeNames map[string]string `json:"volumeNames,omitempty"`
}

const metaFile = "config.json"

func loadMeta(dir string) (meta, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(b, &m)
	return m, err
}

func saveMeta(dir string, m *meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, metaFile), b, 0o600)
}

// cloneState deep-copies a State (its Health is shared otherwise).
func cloneState(s State) State {
	if s.Health != nil {
		h := *s.Health
		h.Log = make([]*containertypes.HealthcheckResult, len(s.Health.Log))
		for i, r := range s.Health.Log {
			rc := *r
			h.Log[i] = &rc
		}
		s.Health = &h
	}
	return s
}

// cloneSpec deep-copies a Spec through JSON (it holds only plain data).
func cloneSpec(s Spec) Spec {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	var out Spec
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
