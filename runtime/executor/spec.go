package executor

import (
	"errors"
	"os"
	"sort"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/runtime/container"
	"github.com/shoal-project/shoal/runtime/image"
)

// ErrNoName is returned for a task that reached the executor without its container name.
var ErrNoName = errors.New("executor: task has no name")

// containerSpec merges the image config and the task's spec into a container spec, as Docker's
// swarm executor does (daemon/cluster/executor/container).
func containerSpec(t swarm.Task, name, id string, img *image.Image) (container.Spec, error) {
	cs := t.Spec.ContainerSpec
	if name == "" {
		return container.Spec{}, ErrNoName
	}
	ic := img.Config
	entrypoint, cmd := container.MergeCommand(ic.Entrypoint, ic.Cmd, cs.Command, cs.Args)
	s := container.Spec{
		ID:             id,
		Name:           name,
		Labels:         taskLabels(t, name),
		Image:          cs.Image,
		ImageID:        img.ID,
		Entrypoint:     entrypoint,
		Cmd:            cmd,
		Env:            configEnv(ic.Env, cs.Env),
		WorkingDir:     firstNonEmpty(cs.Dir, ic.WorkingDir),
		User:           firstNonEmpty(cs.User, ic.User),
		Groups:         cs.Groups,
		Hostname:       cs.Hostname,
		Hosts:          cs.Hosts,
		LowerDirs:      img.LayerDirs,
		ReadOnly:       cs.ReadOnly,
		Mounts:         cs.Mounts,
		OomScoreAdj:    int(cs.OomScoreAdj),
		CapabilityAdd:  cs.CapabilityAdd,
		CapabilityDrop: cs.CapabilityDrop,
		Sysctls:        cs.Sysctls,
		Ulimits:        cs.Ulimits,
		StopSignal:     firstNonEmpty(cs.StopSignal, ic.StopSignal),
		TTY:            cs.TTY,
		Healthcheck:    healthcheck(cs.Healthcheck, img),
	}
	for p := range ic.ExposedPorts {
		s.ExposedPorts = append(s.ExposedPorts, p)
	}
	sort.Strings(s.ExposedPorts)
	if hostNetwork(t) {
		// Docker's NetworkMode host: the node's network namespace, and its hostname unless the
		// spec names one
		s.NetNS = "host"
		if s.Hostname == "" {
			s.Hostname, _ = os.Hostname()
		}
	}
	if cs.DNSConfig != nil {
		s.DNS = *cs.DNSConfig
	}
	if cs.Init != nil {
		s.Init = *cs.Init
	}
	if cs.StopGracePeriod != nil {
		s.StopGracePeriod = *cs.StopGracePeriod
	} else {
		s.StopGracePeriod = 10 * time.Second
	}
	if d := t.Spec.LogDriver; d != nil {
		// As Docker's executor: the driver and options as given; dockerd checks them at create.
		s.LogConfig = containertypes.LogConfig{Type: d.Name, Config: d.Options}
	}
	if r := t.Spec.Resources; r != nil && r.Limits != nil {
		s.Resources = container.Resources{NanoCPUs: r.Limits.NanoCPUs, MemoryBytes: r.Limits.MemoryBytes, PidsLimit: r.Limits.Pids}
	}
	return s, nil
}

// hostNetwork reports whether a task runs on its node's own network: its first network is the
// swarm's predefined host network, as Docker's executor decides its NetworkMode.
func hostNetwork(t swarm.Task) bool {
	if len(t.NetworksAttachments) == 0 {
		return false
	}
	n := t.NetworksAttachments[0].Network.Spec
	return n.Labels["com.docker.swarm.predefined"] == "true" && n.Name == "host"
}

// configEnv is the container's Config.Env as dockerd makes it from the task's and the image's:
// the task's variables in their order, then the image's that the task does not set.
func configEnv(image, task []string) []string {
	if len(task) == 0 {
		return append([]string(nil), image...)
	}
	out := append([]string(nil), task...)
	for _, ie := range image {
		key, _, _ := strings.Cut(ie, "=")
		set := false
		for _, te := range task {
			if k, _, _ := strings.Cut(te, "="); k == key {
				set = true
				break
			}
		}
		if !set {
			out = append(out, ie)
		}
	}
	return out
}

// labelTaskID is the label that names a container's task.
const labelTaskID = "com.docker.swarm.task.id"

// taskLabels are the labels Docker gives a task's container: the container spec's own, then the
// com.docker.swarm.* ones.
func taskLabels(t swarm.Task, name string) map[string]string {
	l := map[string]string{}
	for k, v := range t.Spec.ContainerSpec.Labels {
		l[k] = v
	}
	l["com.docker.swarm.service.id"] = t.ServiceID
	l["com.docker.swarm.service.name"] = serviceName(name)
	l["com.docker.swarm.task"] = ""
	l[labelTaskID] = t.ID
	l["com.docker.swarm.task.name"] = name
	l["com.docker.swarm.node.id"] = t.NodeID
	return l
}

// serviceName is the service part of a task's container name <service>.<slot>.<task id>: a
// service name has no dots.
func serviceName(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

// healthcheck is the task's health check over the image's, field by field as Docker merges them.
func healthcheck(spec *containertypes.HealthConfig, img *image.Image) *containertypes.HealthConfig {
	var out containertypes.HealthConfig
	if ih := img.Config.Healthcheck; ih != nil {
		out = containertypes.HealthConfig{Test: ih.Test, Interval: ih.Interval, Timeout: ih.Timeout,
			StartPeriod: ih.StartPeriod, StartInterval: ih.StartInterval, Retries: ih.Retries}
	}
	if spec != nil {
		if len(spec.Test) > 0 {
			out.Test = spec.Test
		}
		if spec.Interval != 0 {
			out.Interval = spec.Interval
		}
		if spec.Timeout != 0 {
			out.Timeout = spec.Timeout
		}
		if spec.StartPeriod != 0 {
			out.StartPeriod = spec.StartPeriod
		}
		if spec.StartInterval != 0 {
			out.StartInterval = spec.StartInterval
		}
		if spec.Retries != 0 {
			out.Retries = spec.Retries
		}
	}
	if len(out.Test) == 0 || out.Test[0] == "NONE" {
		return nil
	}
	return &out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
