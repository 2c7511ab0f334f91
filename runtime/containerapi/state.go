package containerapi

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-units"

	"github.com/shoal-project/shoal/runtime/container"
)

// stateOf is the container's state as the API names it: created, running, paused or exited.
func stateOf(c *container.Container) containertypes.ContainerState {
	switch c.State.Status {
	case container.StatusRunning:
		if c.State.Paused {
			return containertypes.StatePaused
		}
		return containertypes.StateRunning
	case container.StatusExited:
		return containertypes.StateExited
	}
	if !c.State.StartedAt.IsZero() {
		return containertypes.StateExited
	}
	return containertypes.StateCreated
}

// statusText is the human status of `docker ps`, worded as dockerd's State.String:
// "Up 3 seconds", "Up 2 minutes (healthy)", "Exited (0) 2 minutes ago", "Created".
func statusText(st container.State, now time.Time) string {
	if st.Status == container.StatusRunning {
		up := units.HumanDuration(now.UTC().Sub(st.StartedAt))
		if st.Paused {
			return fmt.Sprintf("Up %s (Paused)", up)
		}
		if h := st.Health; h != nil {
			return fmt.Sprintf("Up %s (%s)", up, healthText(h.Status))
		}
		return "Up " + up
	}
	if st.StartedAt.IsZero() {
		return "Created"
	}
	if st.FinishedAt.IsZero() {
		return ""
	}
	return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, units.HumanDuration(now.UTC().Sub(st.FinishedAt)))
}

// healthText is how a status shows the health: "health: starting", "healthy", "unhealthy".
func healthText(s containertypes.HealthStatus) string {
	switch s {
	case containertypes.Starting:
		return "health: starting"
	case "":
		return string(containertypes.Unhealthy)
	}
	return string(s)
}

// healthStatus is the container's health for the health filter: none, starting, healthy, unhealthy.
func healthStatus(c *container.Container) containertypes.HealthStatus {
	if c.State.Health == nil {
		return containertypes.NoHealthcheck
	}
	if c.State.Health.Status == "" {
		return containertypes.Unhealthy
	}
	return c.State.Health.Status
}

// argv is the container's process: Entrypoint then Cmd.
func argv(s container.Spec) []string {
	return append(append([]string(nil), s.Entrypoint...), s.Cmd...)
}

// pathAndArgs splits the process into the executable and its arguments, as inspect shows them.
func pathAndArgs(s container.Spec) (string, []string) {
	a := argv(s)
	if len(a) == 0 {
		return "", []string{}
	}
	return a[0], a[1:]
}

// commandText is the COMMAND column of `docker ps`: the path and the arguments, an argument that
// holds a space in single quotes.
func commandText(s container.Spec) string {
	path, args := pathAndArgs(s)
	if len(args) == 0 {
		return path
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		quoted[i] = a
	}
	return path + " " + strings.Join(quoted, " ")
}

// networkMode is HostConfig.NetworkMode for the container's network namespace.
func networkMode(netns string) string {
	switch netns {
	case "host", "none":
		return netns
	}
	return "default"
}

// userMounts are the container's mounts as dockerd lists them in HostConfig.Mounts and Mounts:
// without the files of a task's secrets and configs, which dockerd mounts but does not list.
func userMounts(s container.Spec) []mount.Mount {
	var out []mount.Mount
	for _, m := range s.Mounts {
		if !isTaskFile(s.Labels[taskIDLabel], m) {
			out = append(out, m)
		}
	}
	return out
}

const taskIDLabel = "com.docker.swarm.task.id"

// taskFileName is the name of a secret's or config's file in its task's directory (see
// runtime/executor's taskFiles: <exec-root>/taskfiles/<task ID>/secret-<n> or config-<n>).
var taskFileName = regexp.MustCompile(`^(secret|config)-[0-9]+$`)

// isTaskFile tells whether m is the read-only bind mount of one of task taskID's secret or
// config files.
func isTaskFile(taskID string, m mount.Mount) bool {
	if taskID == "" || m.Type != mount.TypeBind || !m.ReadOnly {
		return false
	}
	dir, name := filepath.Split(filepath.Clean(m.Source))
	dir = filepath.Clean(dir)
	return taskFileName.MatchString(name) && filepath.Base(dir) == taskID && filepath.Base(filepath.Dir(dir)) == "taskfiles"
}

// mountPoints describes the container's mounts as inspect and ps do.
func mountPoints(c *container.Container) []containertypes.MountPoint {
	out := []containertypes.MountPoint{}
	for _, m := range userMounts(c.Spec) {
		mp := containertypes.MountPoint{
			Type:        m.Type,
			Source:      m.Source,
			Destination: m.Target,
			RW:          !m.ReadOnly,
		}
		switch m.Type {
		case mount.TypeBind:
			mp.Propagation = mount.PropagationRPrivate
			if m.BindOptions != nil && m.BindOptions.Propagation != "" {
				mp.Propagation = m.BindOptions.Propagation
			}
		case mount.TypeVolume:
			mp.Driver = "local"
			mp.Name = m.Source
			if dir, ok := c.Volumes[filepath.Clean(m.Target)]; ok {
				mp.Source = dir
				if mp.Name == "" {
					mp.Name = volumeName(dir)
				}
			}
			mp.Mode = "z"
		case mount.TypeTmpfs:
			mp.Source = ""
		}
		out = append(out, mp)
	}
	return out
}

// volumeName reads the volume's name from its data directory, <root>/volumes/<name>/_data[/sub].
func volumeName(dir string) string {
	parts := strings.Split(filepath.Clean(dir), string(filepath.Separator))
	for i := len(parts) - 2; i > 0; i-- {
		if parts[i+1] == "_data" && parts[i-1] == "volumes" {
			return parts[i]
		}
	}
	return ""
}
