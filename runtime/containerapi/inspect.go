package containerapi

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/storage"
	"github.com/docker/go-connections/nat"
	"github.com/opencontainers/cgroups"

	"github.com/shoal-project/shoal/runtime/container"
)

// ContainerInspect answers GET /containers/{name}/json in dockerd's shape.
func (b *Backend) ContainerInspect(ctx context.Context, name string) (*containertypes.InspectResponse, error) {
	c, err := b.get(name)
	if err != nil {
		return nil, err
	}
	return inspect(c, b.execs.runningIDs(c.ID)), nil
}

// timeText formats a time as inspect does (RFC 3339 with nanoseconds; the zero time for never).
func timeText(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// inspect builds the inspect answer of a container; execIDs are its running execs.
func inspect(c *container.Container, execIDs []string) *containertypes.InspectResponse {
	s := c.Spec
	path, args := pathAndArgs(s)
	st := c.State
	state := &containertypes.State{
		Status:     stateOf(c),
		Running:    st.Status == container.StatusRunning,
		Paused:     st.Status == container.StatusRunning && st.Paused,
		OOMKilled:  st.OOMKilled,
		Pid:        st.Pid,
		ExitCode:   st.ExitCode,
		Error:      st.Error,
		StartedAt:  timeText(st.StartedAt),
		FinishedAt: timeText(st.FinishedAt),
		Health:     st.Health,
	}
	if s.Image == "" {
		s.Image = s.ImageID // Config.Image names the image as it was given
	}
	hostname := s.Hostname
	if hostname == "" {
		hostname = c.ID[:12]
	}
	cfg := &containertypes.Config{
		Hostname:    hostname,
		User:        s.User,
		Tty:         s.TTY,
		Env:         s.Env,
		Cmd:         s.Cmd,
		Healthcheck: s.Healthcheck,
		Image:       s.Image,
		WorkingDir:  s.WorkingDir,
		Entrypoint:  s.Entrypoint,
		Labels:      labels(c),
		StopSignal:  s.StopSignal,
	}
	if len(s.ExposedPorts) > 0 {
		cfg.ExposedPorts = nat.PortSet{}
		for _, p := range s.ExposedPorts {
			cfg.ExposedPorts[nat.Port(p)] = struct{}{}
		}
	}
	return &containertypes.InspectResponse{
		ContainerJSONBase: &containertypes.ContainerJSONBase{
			ID:             c.ID,
			Created:        timeText(c.Created),
			Path:           path,
			Args:           args,
			State:          state,
			Image:          s.ImageID,
			ResolvConfPath: c.ResolvConfPath,
			HostnamePath:   c.HostnamePath,
			HostsPath:      c.HostsPath,
			LogPath:        c.LogPath,
			Name:           "/" + c.Name,
			Driver:         "overlay2",
			Platform:       "linux",
			ExecIDs:        execIDs,
			HostConfig:     hostConfig(s),
			GraphDriver: storage.DriverData{Name: "overlay2", Data: map[string]string{
				"LowerDir":  lowerDir(s.LowerDirs),
				"UpperDir":  c.UpperDir,
				"MergedDir": c.RootfsPath,
				"WorkDir":   filepath.Join(filepath.Dir(c.UpperDir), "work"),
			}},
		},
		Mounts: mountPoints(c),
		Config: cfg,
		NetworkSettings: &containertypes.NetworkSettings{
			NetworkSettingsBase: containertypes.NetworkSettingsBase{
				SandboxKey: sandboxKey(s.NetNS),
				Ports:      nat.PortMap{},
			},
			Networks: endpointSettings(s.Networks),
		},
	}
}

// endpointSettings are the container's networks as NetworkSettings.Networks shows them.
func endpointSettings(eps []container.NetworkEndpoint) map[string]*network.EndpointSettings {
	out := map[string]*network.EndpointSettings{}
	for _, e := range eps {
		es := &network.EndpointSettings{NetworkID: e.NetworkID, EndpointID: e.EndpointID, MacAddress: e.MacAddress,
			Aliases: e.Aliases, DNSNames: e.DNSNames}
		if p, err := netip.ParsePrefix(e.Address); err == nil {
			es.IPAddress, es.IPPrefixLen = p.Addr().String(), p.Bits()
			es.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: es.IPAddress}
		}
		out[e.Name] = es
	}
	return out
}

// lowerDir is overlayfs's lowerdir: the image layers, top-most first.
func lowerDir(layers []string) string {
	dirs := make([]string, len(layers))
	for i, d := range layers {
		dirs[len(layers)-1-i] = d
	}
	return strings.Join(dirs, ":")
}

// sandboxKey is the path of the network namespace a container joined, if any.
func sandboxKey(netns string) string {
	if strings.HasPrefix(netns, "/") {
		return netns
	}
	return ""
}

// hostConfig is the container's HostConfig as dockerd shows a swarm task's.
func hostConfig(s container.Spec) *containertypes.HostConfig {
	init := s.Init
	hc := &containertypes.HostConfig{
		LogConfig:      logConfig(s.LogConfig),
		NetworkMode:    containertypes.NetworkMode(networkMode(s.NetNS)),
		PortBindings:   nat.PortMap{},
		ConsoleSize:    [2]uint{0, 0},
		CapAdd:         s.CapabilityAdd,
		CapDrop:        s.CapabilityDrop,
		CgroupnsMode:   cgroupnsMode(),
		DNS:            s.DNS.Nameservers,
		DNSOptions:     s.DNS.Options,
		DNSSearch:      s.DNS.Search,
		ExtraHosts:     extraHosts(s.Hosts),
		GroupAdd:       s.Groups,
		IpcMode:        "private",
		OomScoreAdj:    s.OomScoreAdj,
		ReadonlyRootfs: s.ReadOnly,
		SecurityOpt:    securityOpt(s),
		ShmSize:        64 << 20,
		Sysctls:        s.Sysctls,
		Runtime:        "runc",
		Isolation:      containertypes.IsolationDefault, // the swarm executor's, from the task spec
		Mounts:         userMounts(s),
		MaskedPaths:    container.DefaultMaskedPaths(),
		ReadonlyPaths:  container.DefaultReadonlyPaths(),
		Init:           &init,
	}
	oomKillDisable := false
	hc.OomKillDisable = &oomKillDisable
	hc.Memory = s.Resources.MemoryBytes
	if hc.Memory > 0 {
		hc.MemorySwap = 2 * hc.Memory
	}
	hc.NanoCPUs = s.Resources.NanoCPUs
	if s.Resources.PidsLimit > 0 {
		pids := s.Resources.PidsLimit
		hc.PidsLimit = &pids
	}
	hc.Ulimits = s.Ulimits
	if hc.Ulimits == nil {
		hc.Ulimits = []*containertypes.Ulimit{}
	}
	return hc
}

// extraHosts turns swarm's "IP name [aliases]" entries into HostConfig's "name:IP".
func extraHosts(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		if f := strings.Fields(h); len(f) > 1 {
			out = append(out, f[1]+":"+f[0])
		} else if len(f) == 1 {
			out = append(out, f[0])
		}
	}
	return out
}

func securityOpt(s container.Spec) []string {
	var out []string
	if s.SeccompProfile == "unconfined" {
		out = append(out, "seccomp=unconfined")
	}
	if s.NoNewPrivileges {
		out = append(out, "no-new-privileges")
	}
	return out
}

// cgroupnsMode is "private" where the runtime gives containers a cgroup namespace (cgroup v2),
// "host" otherwise.
func cgroupnsMode() containertypes.CgroupnsMode {
	if cgroups.IsCgroup2UnifiedMode() {
		return "private"
	}
	return "host"
}

// logConfig is the container's log driver as dockerd shows it: json-file when none was given,
// and an empty Config rather than null.
func logConfig(lc containertypes.LogConfig) containertypes.LogConfig {
	out := containertypes.LogConfig{Type: lc.Type, Config: map[string]string{}}
	if out.Type == "" {
		out.Type = container.LogDriverJSONFile
	}
	for k, v := range lc.Config {
		out.Config[k] = v
	}
	return out
}
