package container

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/mount"
)

// Create prepares a container: its directory, the overlay rootfs (mounted until Delete),
// volumes, /etc/hostname, /etc/hosts and /etc/resolv.conf, and the user resolved in the image.
// The container is left in state "created".
func (r *Runtime) Create(ctx context.Context, spec Spec) (_ *Container, retErr error) {
	spec = cloneSpec(spec)
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if err := validateMounts(spec.Mounts); err != nil {
		return nil, err
	}
	caps, err := tweakCapabilities(spec.CapabilityAdd, spec.CapabilityDrop, allCapabilities())
	if err != nil {
		return nil, err
	}
	if _, err := rlimits(&spec); err != nil {
		return nil, err
	}
	if _, err := healthProbeCommand(spec.Healthcheck); err != nil {
		return nil, err
	}

	dir := r.containerDir(spec.ID)
	c := &ctr{id: spec.ID, name: spec.Name, dir: dir}
	c.mu.Lock() // nobody may use c before it is complete
	defer c.mu.Unlock()
	if err := r.reserve(c); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			r.mu.Lock()
			delete(r.ctrs, c.id)
			r.mu.Unlock()
			if c.logs != nil {
				c.logs.close()
			}
			_ = unmountAll(dir)
			_ = os.RemoveAll(dir)
			_ = os.RemoveAll(r.runDir(c.id))
			r.dropVolumeRefs(c.id)
			for _, v := range c.meta.AnonVolumes {
				_ = r.removeVolume(v)
			}
		}
	}()

	// The upper directory's mode is the container's / (overlayfs takes the root's attributes from
	// it): 0755 as Docker's, so that a task running as another user than root can read its files.
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o710}, {filepath.Join(dir, "diff"), 0o755}, {filepath.Join(dir, "work"), 0o700}, {filepath.Join(dir, "rootfs"), 0o755}} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return nil, err
		}
		if err := os.Chmod(d.path, d.mode); err != nil { // MkdirAll's mode passes through the umask
			return nil, err
		}
	}
	if err := os.MkdirAll(r.runDir(c.id), 0o700); err != nil {
		return nil, err
	}
	hm := hostMounts{
		Rootfs:     filepath.Join(dir, "rootfs"),
		Hostname:   filepath.Join(dir, "hostname"),
		Hosts:      filepath.Join(dir, "hosts"),
		ResolvConf: filepath.Join(dir, "resolv.conf"),
		Volumes:    map[string]string{},
	}
	if spec.Init {
		hm.InitBinary = r.opts.InitPath
	}
	if err := writeDockerenv(filepath.Join(dir, "diff")); err != nil {
		return nil, err
	}
	if err := mountOverlay(spec.LowerDirs, filepath.Join(dir, "diff"), filepath.Join(dir, "work"), hm.Rootfs); err != nil {
		return nil, err
	}
	c.meta = meta{Spec: spec, Created: time.Now().UTC(), State: State{Status: StatusCreated}, Mounts: hm}

	c.meta.User, err = resolveUser(hm.Rootfs, spec.User, spec.Groups)
	if err != nil {
		return nil, err
	}
	if err := r.makeWorkingDir(hm.Rootfs, spec.workingDir()); err != nil {
		return nil, err
	}
	if err := r.prepareVolumes(c, hm.Rootfs); err != nil {
		return nil, err
	}
	if err := writeEtcFiles(&spec, hm); err != nil {
		return nil, err
	}
	// Build the whole configuration once now, so that a bad spec fails at Create.
	if _, err := r.buildConfig(c, caps); err != nil {
		return nil, err
	}
	policy, err := parseLogConfig(spec.LogConfig)
	if err != nil {
		return nil, err
	}
	if c.logs, err = openJSONLog(filepath.Join(dir, c.id+"-json.log"), policy); err != nil {
		return nil, err
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	c.ready = true
	r.mu.Unlock()
	r.emitLocked(c, Event{Action: "create"}) // c.mu is held until Create returns
	return r.snapshot(c), nil
}

// reserve registers c, refusing a used ID or name.
func (r *Runtime) reserve(c *ctr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.ctrs[c.id]; ok {
		return errExists(fmt.Sprintf("container %s already exists", c.id))
	}
	if c.name != "" {
		for _, o := range r.ctrs {
			if o.name == c.name {
				return errExists(fmt.Sprintf("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", c.name, o.id))
			}
		}
	}
	if _, err := os.Stat(r.containerDir(c.id)); err == nil {
		return errExists(fmt.Sprintf("container %s already exists", c.id))
	}
	r.ctrs[c.id] = c
	return nil
}

// makeWorkingDir creates the working directory in the rootfs if it is missing, as Docker does.
func (r *Runtime) makeWorkingDir(rootfs, wd string) error {
	p, err := pathInRootfs(rootfs, wd)
	if err != nil {
		return err
	}
	if st, err := os.Stat(p); err == nil {
		if !st.IsDir() {
			return invalidf("Cannot mkdir: %s is not a directory", wd)
		}
		return nil
	}
	return os.MkdirAll(p, 0o755)
}

// prepareVolumes creates the container's volumes and records their names and host directories.
func (r *Runtime) prepareVolumes(c *ctr, rootfs string) error {
	for _, m := range c.meta.Spec.Mounts {
		if m.Type != mount.TypeVolume {
			continue
		}
		name := m.Source
		var labels map[string]string
		if m.VolumeOptions != nil && len(m.VolumeOptions.Labels) > 0 {
			labels = maps.Clone(m.VolumeOptions.Labels)
		}
		if name == "" {
			name = newAnonymousVolumeName()
			c.meta.AnonVolumes = append(c.meta.AnonVolumes, name)
			if labels == nil {
				labels = map[string]string{}
			}
			labels[AnonymousVolumeLabel] = "" // as dockerd marks the volumes it names
		}
		var copyFrom string
		if m.VolumeOptions == nil || !m.VolumeOptions.NoCopy {
			if p, err := pathInRootfs(rootfs, m.Target); err == nil {
				copyFrom = p
			}
		}
		var driverOpts map[string]string
		if m.VolumeOptions != nil && m.VolumeOptions.DriverConfig != nil {
			driverOpts = m.VolumeOptions.DriverConfig.Options
		}
		data, err := r.ensureVolume(name, c.id, copyFrom, driverOpts, labels)
		if err != nil {
			return err
		}
		if c.meta.VolumeNames == nil {
			c.meta.VolumeNames = map[string]string{}
		}
		c.meta.VolumeNames[path.Clean(m.Target)] = name
		vo, err := r.loadVolumeOpts(name)
		if err != nil {
			return err
		}
		if vo.needsMount() {
			if err := r.populateVolume(c.id, name, copyFrom); err != nil {
				return err
			}
			// The subpath is looked up at each start, once the volume is mounted.
			c.meta.Mounts.Volumes[path.Clean(m.Target)] = data
			continue
		}
		if data, err = volumeSubpath(data, m.VolumeOptions); err != nil {
			return err
		}
		c.meta.Mounts.Volumes[path.Clean(m.Target)] = data
	}
	return nil
}

// populateVolume copies the image's content at the mount target into a volume with options
// when the volume is empty, as Docker does at create: the volume is mounted for the copy only.
func (r *Runtime) populateVolume(id, name, copyFrom string) (retErr error) {
	if copyFrom == "" {
		return nil
	}
	if st, err := os.Stat(copyFrom); err != nil || !st.IsDir() {
		return nil
	}
	holder := "populate:" + id
	if _, err := r.acquireVolume(name, holder); err != nil {
		return fmt.Errorf("failed to populate volume: %w", err)
	}
	defer func() {
		if err := r.releaseVolume(name, holder); err != nil && retErr == nil {
			retErr = err
		}
	}()
	data := r.volumeDataDir(name)
	entries, err := os.ReadDir(data)
	if err != nil || len(entries) > 0 {
		return err
	}
	if err := copyTree(copyFrom, data); err != nil {
		return fmt.Errorf("copy image content into volume %s: %w", name, err)
	}
	return nil
}

// mountVolumes mounts the container's volumes that have options and looks up their subpaths;
// c.mu is held. On error, the volumes it mounted are released.
func (r *Runtime) mountVolumes(c *ctr) (retErr error) {
	defer func() {
		if retErr != nil {
			_ = r.releaseVolumes(c)
		}
	}()
	for _, m := range c.meta.Spec.Mounts {
		target := path.Clean(m.Target)
		name, ok := c.meta.VolumeNames[target]
		if m.Type != mount.TypeVolume || !ok {
			continue
		}
		vo, err := r.acquireVolume(name, c.id)
		if err != nil {
			return err
		}
		if !vo.needsMount() {
			continue
		}
		data, err := volumeSubpath(r.volumeDataDir(name), m.VolumeOptions)
		if err != nil {
			return err
		}
		c.meta.Mounts.Volumes[target] = data
	}
	return nil
}

// releaseVolumes lets go of the container's volumes: the last user of a volume with options
// unmounts it; c.mu is held.
func (r *Runtime) releaseVolumes(c *ctr) error {
	var errs []error
	for _, name := range c.meta.VolumeNames {
		if err := r.releaseVolume(name, c.id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeDockerenv puts the empty /.dockerenv that dockerd's init layer gives every container (tools
// tell by it that they run in one) in the container's fresh upper directory.
func writeDockerenv(upper string) error {
	p := filepath.Join(upper, ".dockerenv")
	if err := os.WriteFile(p, nil, 0o755); err != nil {
		return err
	}
	return os.Chmod(p, 0o755) // WriteFile's mode passes through the umask
}

func writeEtcFiles(s *Spec, hm hostMounts) error {
	hosts, err := hostsContent(s.Hosts)
	if err != nil {
		return err
	}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	files := []struct {
		path string
		data []byte
	}{
		{hm.Hostname, hostnameContent(s.hostname())},
		{hm.Hosts, hosts},
		{hm.ResolvConf, resolvConfContent(s.DNS, hostResolv, s.NetNS == "host")},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// volumeSubpath is the directory a volume mount binds: the volume's data, or the subpath in it
// that the mount names, which must exist.
func volumeSubpath(data string, opts *mount.VolumeOptions) (string, error) {
	if opts == nil || opts.Subpath == "" {
		return data, nil
	}
	sub, err := pathInRootfs(data, opts.Subpath)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(sub); err != nil {
		return "", invalidf("cannot access path %s: %v", sub, err)
	}
	return sub, nil
}
