package container

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/mount"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// initPathInContainer is where the container init binary is bind-mounted, as in Docker.
const initPathInContainer = "/sbin/docker-init"

// hostMounts are the host paths a container's mounts come from, decided at Create.
type hostMounts struct {
	Rootfs     string
	Hostname   string
	Hosts      string
	ResolvConf string
	InitBinary string            // "" unless Spec.Init
	Volumes    map[string]string // mount target -> host directory of a volume mount
}

// ociSpec builds the OCI runtime spec of a container, following Docker's defaults.
func ociSpec(s *Spec, hm hostMounts, cgroupsPath string, caps []string, swapSupported bool) (*specs.Spec, error) {
	userMounts, err := userMountsSpec(s, hm)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, m := range userMounts {
		taken[path.Clean(m.Destination)] = true
	}
	var mounts []specs.Mount
	for _, m := range defaultMounts() {
		if !taken[m.Destination] {
			mounts = append(mounts, m)
		}
	}
	etcOpts := []string{"rbind", "rprivate"}
	if s.ReadOnly {
		etcOpts = append(etcOpts, "ro")
	}
	for _, f := range []struct{ dst, src string }{
		{"/etc/resolv.conf", hm.ResolvConf},
		{"/etc/hostname", hm.Hostname},
		{"/etc/hosts", hm.Hosts},
	} {
		if !taken[f.dst] {
			mounts = append(mounts, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: etcOpts})
		}
	}
	if hm.InitBinary != "" {
		mounts = append(mounts, specs.Mount{Destination: initPathInContainer, Type: "bind", Source: hm.InitBinary,
			Options: []string{"bind", "ro", "rprivate"}})
	}
	mounts = append(mounts, userMounts...)

	namespaces := []specs.LinuxNamespace{
		{Type: specs.MountNamespace},
		{Type: specs.UTSNamespace},
		{Type: specs.PIDNamespace},
		{Type: specs.IPCNamespace},
	}
	switch s.NetNS {
	case "host":
	case "", "none":
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	default:
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: s.NetNS})
	}
	if cgroups.IsCgroup2UnifiedMode() {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}

	oomScoreAdj := s.OomScoreAdj
	spec := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: hm.Rootfs, Readonly: s.ReadOnly},
		Hostname: s.hostname(),
		Mounts:   mounts,
		Process: &specs.Process{
			Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			OOMScoreAdj:  &oomScoreAdj,
			// NoNewPrivileges is set on the libcontainer config by the caller.
			NoNewPrivileges: s.NoNewPrivileges,
		},
		Linux: &specs.Linux{
			CgroupsPath:   cgroupsPath,
			Namespaces:    namespaces,
			Resources:     resourcesSpec(s.Resources, swapSupported),
			MaskedPaths:   DefaultMaskedPaths(),
			ReadonlyPaths: DefaultReadonlyPaths(),
			Sysctl:        s.Sysctls,
		},
	}
	return spec, nil
}

func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}},
	}
}

// DefaultReadonlyPaths are the paths mounted read-only in every container, as Docker does.
func DefaultReadonlyPaths() []string {
	return []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
}

// DefaultMaskedPaths are the paths hidden in every container, as Docker does.
func DefaultMaskedPaths() []string {
	paths := []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	matches, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle")
	return append(paths, matches...)
}

func resourcesSpec(r Resources, swapSupported bool) *specs.LinuxResources {
	i := func(v int64) *int64 { return &v }
	devRule := func(major, minor int64) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i(major), Minor: i(minor), Access: "rwm"}
	}
	res := &specs.LinuxResources{
		// Docker's device rules: deny all but the standard devices (libcontainer adds the
		// rules for the devices it creates: null, zero, full, random, urandom, tty, ptmx...).
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			devRule(1, 5), devRule(1, 3), devRule(1, 9), devRule(1, 8), devRule(5, 0), devRule(5, 1),
			{Allow: false, Type: "c", Major: i(10), Minor: i(229), Access: "rwm"},
		},
	}
	if r.NanoCPUs > 0 {
		period := uint64(100000)
		quota := r.NanoCPUs * int64(period) / 1e9
		res.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
	}
	if r.MemoryBytes > 0 {
		res.Memory = &specs.LinuxMemory{Limit: i(r.MemoryBytes)}
		if swapSupported {
			res.Memory.Swap = i(2 * r.MemoryBytes)
		}
	}
	if r.PidsLimit > 0 {
		res.Pids = &specs.LinuxPids{Limit: i(r.PidsLimit)}
	}
	return res
}

// swapLimitSupported reports whether the memory cgroup can limit swap.
func swapLimitSupported() bool {
	if cgroups.IsCgroup2UnifiedMode() {
		_, err := os.Stat("/sys/fs/cgroup/memory.swap.max")
		if err == nil {
			return true
		}
		// The root cgroup has no memory.swap.max; look at any child.
		m, _ := filepath.Glob("/sys/fs/cgroup/*/memory.swap.max")
		return len(m) > 0
	}
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
	return err == nil
}

// sortMountsByDepth orders mounts so that a parent directory is mounted before its children.
func sortMountsByDepth(ms []specs.Mount) {
	slices.SortStableFunc(ms, func(a, b specs.Mount) int {
		return strings.Count(path.Clean(a.Destination), "/") - strings.Count(path.Clean(b.Destination), "/")
	})
}

// userMountsSpec turns the Spec's mounts into OCI mounts. Volume host directories were
// created at Create and are in hm.Volumes.
func userMountsSpec(s *Spec, hm hostMounts) ([]specs.Mount, error) {
	var out []specs.Mount
	for _, m := range s.Mounts {
		target := path.Clean(m.Target)
		switch m.Type {
		case mount.TypeBind:
			opts := []string{"rbind"}
			if m.BindOptions != nil && m.BindOptions.NonRecursive {
				opts = []string{"bind"}
			}
			prop := "rprivate"
			if m.BindOptions != nil && m.BindOptions.Propagation != "" {
				prop = string(m.BindOptions.Propagation)
			}
			opts = append(opts, prop)
			if m.ReadOnly {
				opts = append(opts, "ro")
			}
			out = append(out, specs.Mount{Destination: target, Type: "bind", Source: m.Source, Options: opts})
		case mount.TypeVolume:
			src, ok := hm.Volumes[target]
			if !ok {
				return nil, fmt.Errorf("volume for %s was not prepared", target)
			}
			opts := []string{"rbind", "rprivate"}
			if m.ReadOnly {
				opts = append(opts, "ro")
			}
			out = append(out, specs.Mount{Destination: target, Type: "bind", Source: src, Options: opts})
		case mount.TypeTmpfs:
			opts := []string{"nosuid", "nodev", "noexec"}
			if m.TmpfsOptions != nil {
				if m.TmpfsOptions.SizeBytes > 0 {
					opts = append(opts, "size="+strconv.FormatInt(m.TmpfsOptions.SizeBytes, 10))
				}
				if m.TmpfsOptions.Mode != 0 {
					opts = append(opts, "mode="+strconv.FormatUint(uint64(m.TmpfsOptions.Mode)&0o7777, 8))
				}
			}
			if m.ReadOnly {
				opts = append(opts, "ro")
			}
			out = append(out, specs.Mount{Destination: target, Type: "tmpfs", Source: "tmpfs", Options: opts})
		default:
			return nil, invalidf("invalid mount config: mount type %q is not supported", m.Type)
		}
	}
	sortMountsByDepth(out)
	return out, nil
}

// validateMounts checks the Spec's mounts before anything is created, with Docker's texts.
func validateMounts(ms []mount.Mount) error {
	seen := map[string]bool{}
	for _, m := range ms {
		if m.Target == "" {
			return invalidf("invalid mount config for type %q: field Target must not be empty", m.Type)
		}
		if !path.IsAbs(m.Target) {
			return invalidf("invalid mount config for type %q: invalid mount path: '%s' mount path must be absolute", m.Type, m.Target)
		}
		t := path.Clean(m.Target)
		if seen[t] {
			return invalidf("Duplicate mount point: %s", t)
		}
		seen[t] = true
		switch m.Type {
		case mount.TypeBind:
			if m.Source == "" {
				return invalidf("invalid mount config for type \"bind\": field Source must not be empty")
			}
			if !path.IsAbs(m.Source) {
				return invalidf("invalid mount config for type \"bind\": invalid mount path: '%s' mount path must be absolute", m.Source)
			}
			if _, err := os.Stat(m.Source); err != nil {
				return invalidf("invalid mount config for type \"bind\": bind source path does not exist: %s", m.Source)
			}
			if m.BindOptions != nil && m.BindOptions.Propagation != "" {
				switch m.BindOptions.Propagation {
				case mount.PropagationPrivate, mount.PropagationRPrivate, mount.PropagationShared,
					mount.PropagationRShared, mount.PropagationSlave, mount.PropagationRSlave:
				default:
					return invalidf("invalid mount config for type \"bind\": invalid propagation mode: %s", m.BindOptions.Propagation)
				}
			}
		case mount.TypeVolume:
			if m.VolumeOptions != nil && m.VolumeOptions.DriverConfig != nil {
				if d := m.VolumeOptions.DriverConfig.Name; d != "" && d != "local" {
					return invalidf("invalid mount config for type \"volume\": volume driver %q is not supported", d)
				}
			}
		case mount.TypeTmpfs:
			if m.Source != "" {
				return invalidf("invalid mount config for type \"tmpfs\": field Source must not be specified")
			}
		default:
			return invalidf("invalid mount config: mount type %q is not supported", m.Type)
		}
	}
	return nil
}

// rlimitTypes maps Docker's ulimit names to rlimit resources.
var rlimitTypes = map[string]int{
	"as": unix.RLIMIT_AS, "core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU, "data": unix.RLIMIT_DATA,
	"fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS, "memlock": unix.RLIMIT_MEMLOCK,
	"msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE, "nofile": unix.RLIMIT_NOFILE,
	"nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS, "rtprio": unix.RLIMIT_RTPRIO,
	"rttime": unix.RLIMIT_RTTIME, "sigpending": unix.RLIMIT_SIGPENDING, "stack": unix.RLIMIT_STACK,
}

func rlimits(s *Spec) ([]configs.Rlimit, error) {
	var out []configs.Rlimit
	for _, u := range s.Ulimits {
		t, ok := rlimitTypes[strings.ToLower(u.Name)]
		if !ok {
			return nil, invalidf("invalid ulimit type: %s", u.Name)
		}
		if u.Soft > u.Hard {
			return nil, invalidf("ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard)
		}
		out = append(out, configs.Rlimit{Type: t, Hard: uint64(u.Hard), Soft: uint64(u.Soft)})
	}
	return out, nil
}

// libcontainerConfig turns the OCI spec into libcontainer's configuration.
func libcontainerConfig(s *Spec, spec *specs.Spec) (*configs.Config, error) {
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:   s.ID,
		Spec:         spec,
		NoNewKeyring: false,
	})
	if err != nil {
		return nil, err
	}
	rl, err := rlimits(s)
	if err != nil {
		return nil, err
	}
	cfg.Rlimits = rl
	return cfg, nil
}
