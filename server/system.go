package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/system"
)

// Version is shoald's engine version as clients see it.
const Version = "28.5.2-shoal"

// hostFacts are the facts a node tells about itself, read once at start.
type hostFacts struct {
	hostname      string
	kernel        string
	osName        string
	osVersion     string // VERSION_ID of /etc/os-release, as dockerd shows it
	cpus          int
	memBytes      int64
	id            string
	dataRoot      string
	startedAt     time.Time
	cgroupVersion string
}

func readHostFacts(dataRoot string) hostFacts {
	h := hostFacts{cpus: runtime.NumCPU(), dataRoot: dataRoot, startedAt: time.Now(), osName: "linux", cgroupVersion: "1"}
	h.hostname, _ = os.Hostname()
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		h.kernel = cstr(u.Release[:])
	}
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		h.memBytes = int64(si.Totalram) * int64(si.Unit)
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				h.osName = strings.Trim(v, `"`)
			}
			if v, ok := strings.CutPrefix(l, "VERSION_ID="); ok {
				h.osVersion = strings.Trim(v, `"`)
			}
		}
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		h.cgroupVersion = "2"
	}
	sum := sha256.Sum256([]byte(h.hostname + dataRoot))
	h.id = fmt.Sprintf("%X", sum[:])[:48]
	return h
}

func cstr(b []int8) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// systemBackend implements routes.SystemBackend and routes.LocalNetworkBackend.
type systemBackend struct {
	facts      hostFacts
	insecure   []string // --insecure-registry: CIDRs and host[:port] names
	containers func() (total, running, stopped int)
	images     func() int
}

func (s *systemBackend) SystemInfo(ctx context.Context) (*system.Info, error) {
	f := s.facts
	info := &system.Info{
		ID:                 f.id,
		Driver:             "overlay2",
		DriverStatus:       [][2]string{{"Backing Filesystem", "extfs"}, {"Supports d_type", "true"}},
		MemoryLimit:        true,
		SwapLimit:          true,
		CPUCfsPeriod:       true,
		CPUCfsQuota:        true,
		CPUShares:          true,
		CPUSet:             true,
		PidsLimit:          true,
		IPv4Forwarding:     true,
		Debug:              false,
		NFd:                countFDs(),
		NGoroutines:        runtime.NumGoroutine(),
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		LoggingDriver:      "json-file",
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      f.cgroupVersion,
		NEventsListener:    0,
		KernelVersion:      f.kernel,
		OperatingSystem:    f.osName,
		OSVersion:          f.osVersion,
		OSType:             "linux",
		Architecture:       "x86_64",
		IndexServerAddress: "https://index.docker.io/v1/",
		NCPU:               f.cpus,
		MemTotal:           f.memBytes,
		DockerRootDir:      f.dataRoot,
		Name:               f.hostname,
		Labels:             []string{},
		ExperimentalBuild:  false,
		ServerVersion:      Version,
		Runtimes:           map[string]system.RuntimeWithStatus{"runc": {}},
		DefaultRuntime:     "runc",
		LiveRestoreEnabled: true,
		Isolation:          "",
		InitBinary:         "docker-init",
		SecurityOptions:    []string{"name=seccomp,profile=builtin"},
		Warnings:           []string{},
	}
	info.RegistryConfig = registryConfig(s.insecure)
	info.Plugins.Volume = []string{"local"}
	info.Plugins.Network = []string{"bridge", "host", "null", "overlay"}
	info.Plugins.Log = []string{"json-file", "local"}
	if s.containers != nil {
		info.Containers, info.ContainersRunning, info.ContainersStopped = s.containers()
	}
	if s.images != nil {
		info.Images = s.images()
	}
	return info, nil
}

func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

func (s *systemBackend) SystemVersion(ctx context.Context) (types.Version, error) {
	f := s.facts
	v := types.Version{
		Platform:      struct{ Name string }{Name: "shoal"},
		Version:       Version,
		APIVersion:    "1.51",
		MinAPIVersion: "1.24",
		GitCommit:     "shoal",
		GoVersion:     runtime.Version(),
		Os:            "linux",
		Arch:          "amd64",
		KernelVersion: f.kernel,
		BuildTime:     f.startedAt.Format(time.RFC3339),
	}
	v.Components = []types.ComponentVersion{{Name: "Engine", Version: Version, Details: map[string]string{
		"ApiVersion": "1.51", "MinAPIVersion": "1.24", "GitCommit": "shoal", "GoVersion": runtime.Version(),
		"Os": "linux", "Arch": "amd64", "KernelVersion": f.kernel, "Experimental": "false"}},
		{Name: "runc", Version: "1.5.2 (libcontainer, in-process)", Details: map[string]string{"GitCommit": ""}}}
	return v, nil
}

// LocalNetworks lists the node's own networks: bridge, host and none.
func (s *systemBackend) LocalNetworks(ctx context.Context) ([]network.Inspect, error) {
	mk := func(name, driver string, id string) network.Inspect {
		return network.Inspect{Name: name, ID: id, Created: s.facts.startedAt, Scope: "local", Driver: driver,
			IPAM:       network.IPAM{Driver: "default", Options: nil, Config: []network.IPAMConfig{}},
			Containers: map[string]network.EndpointResource{}, Options: map[string]string{}, Labels: map[string]string{},
			ConfigFrom: network.ConfigReference{}}
	}
	idFor := func(name string) string {
		sum := sha256.Sum256([]byte(s.facts.id + "/" + name))
		return fmt.Sprintf("%x", sum[:])
	}
	bridge := mk("bridge", "bridge", idFor("bridge"))
	bridge.IPAM.Config = []network.IPAMConfig{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}}
	bridge.Options = map[string]string{"com.docker.network.bridge.default_bridge": "true", "com.docker.network.bridge.name": "docker0"}
	return []network.Inspect{bridge, mk("host", "host", idFor("host")), mk("none", "null", idFor("none"))}, nil
}

// registryConfig describes the registries as dockerd does: loopback is always insecure, then the
// --insecure-registry CIDRs; Docker Hub and each insecure registry name have an index entry.
func registryConfig(insecure []string) *registry.ServiceConfig {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	sc := &registry.ServiceConfig{
		InsecureRegistryCIDRs: []*registry.NetIPNet{(*registry.NetIPNet)(loopback)},
		IndexConfigs: map[string]*registry.IndexInfo{
			"docker.io": {Name: "docker.io", Mirrors: []string{}, Secure: true, Official: true},
		},
		Mirrors: []string{},
	}
	for _, r := range insecure {
		if _, cidr, err := net.ParseCIDR(r); err == nil {
			if cidr.String() != loopback.String() {
				sc.InsecureRegistryCIDRs = append(sc.InsecureRegistryCIDRs, (*registry.NetIPNet)(cidr))
			}
			continue
		}
		sc.IndexConfigs[r] = &registry.IndexInfo{Name: r, Mirrors: []string{}, Secure: false}
	}
	return sc
}
