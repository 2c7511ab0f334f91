package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"

	"github.com/shoal-project/shoal/integration/harness"
)

// The tests of this file run services with named volumes of the local driver's options
// (volume-opt=type=...,device=...,o=...) and services whose mounts Docker's swarm executor refuses.

// volumeMounts lists what is mounted under the daemon's volumes directory.
func volumeMounts(t *testing.T, d *harness.Daemon) []string {
	t.Helper()
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(filepath.Join(d.DataRoot, "volumes")))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Mountpoint+" "+m.FSType+" "+m.VFSOptions)
	}
	return out
}

// waitNoVolumeMounts waits until nothing is mounted under the daemon's volumes directory.
func waitNoVolumeMounts(t *testing.T, d *harness.Daemon) {
	t.Helper()
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ms := volumeMounts(t, d)
		return len(ms) == 0, strings.Join(ms, "\n")
	})
}

// removeService removes a service and waits until its containers are gone.
func removeService(t *testing.T, d *harness.Daemon, svc string) {
	t.Helper()
	d.MustDocker(t, "service", "rm", svc)
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ids := serviceContainers(t, d, svc, true)
		return len(ids) == 0, strings.Join(ids, " ")
	})
}

// TestServiceLocalVolumeOptions: a tmpfs-typed local volume is a 1 MiB tmpfs in the task's
// container, mounted on the volume's _data while the task runs and unmounted when its service
// goes; a later service using the volume by name gets the stored options; a bind-typed volume
// shows the container's writes in the host directory.
func TestServiceLocalVolumeOptions(t *testing.T) {
	host := t.TempDir() // before the daemon: removed after the daemon's cleanup
	d, imgs := runtimeSwarm(t)

	d.MustDocker(t, "service", "create", "-d", "--name", "tv",
		"--mount", "type=volume,source=tv,target=/d,volume-driver=local,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m",
		imgs["busybox:1"], "sleep", "1000")
	ctr := waitContainers(t, d, "tv", 1)[0]
	df := d.MustDocker(t, "exec", ctr, "sh", "-c", "df -k /d | tail -n 1")
	if f := strings.Fields(df); len(f) < 6 || f[0] != "tmpfs" || f[1] != "1024" || f[5] != "/d" {
		t.Errorf("df /d in the task's container: %q, want a tmpfs of 1024 KiB", df)
	}
	mounts := d.MustDocker(t, "exec", ctr, "grep", " /d ", "/proc/mounts")
	if !strings.HasPrefix(mounts, "tmpfs /d tmpfs ") || !strings.Contains(mounts, "size=1024k") {
		t.Errorf("/proc/mounts: %q", mounts)
	}
	d.MustDocker(t, "exec", ctr, "sh", "-c", "echo kept > /d/f")
	data := filepath.Join(d.DataRoot, "volumes", "tv", "_data")
	if ms := volumeMounts(t, d); len(ms) != 1 || !strings.HasPrefix(ms[0], data+" tmpfs ") {
		t.Errorf("host mounts while the task runs: %q", ms)
	}
	if b, err := os.ReadFile(filepath.Join(data, "f")); err != nil || string(b) != "kept\n" {
		t.Errorf("the volume's _data on the host: %q %v", b, err)
	}
	removeService(t, d, "tv")
	waitNoVolumeMounts(t, d)

	// The volume exists now: no options given, the stored ones hold (a fresh, empty tmpfs).
	d.MustDocker(t, "service", "create", "-d", "--name", "tv2", "--mount", "type=volume,source=tv,target=/d",
		imgs["busybox:1"], "sleep", "1000")
	ctr = waitContainers(t, d, "tv2", 1)[0]
	mounts = d.MustDocker(t, "exec", ctr, "sh", "-c", "grep ' /d ' /proc/mounts; ls /d")
	if !strings.HasPrefix(mounts, "tmpfs /d tmpfs ") || !strings.Contains(mounts, "size=1024k") || strings.Contains(mounts, "\nf") {
		t.Errorf("second service's /d: %q", mounts)
	}
	removeService(t, d, "tv2")
	waitNoVolumeMounts(t, d)

	// A bind-typed volume.
	d.MustDocker(t, "service", "create", "-d", "--name", "bv",
		"--mount", "type=volume,source=bv,target=/d,volume-driver=local,volume-opt=type=none,volume-opt=o=bind,volume-opt=device="+host,
		imgs["busybox:1"], "sleep", "1000")
	ctr = waitContainers(t, d, "bv", 1)[0]
	d.MustDocker(t, "exec", ctr, "sh", "-c", "echo from the task > /d/written")
	if b, err := os.ReadFile(filepath.Join(host, "written")); err != nil || string(b) != "from the task\n" {
		t.Errorf("the host directory: %q %v", b, err)
	}
	removeService(t, d, "bv")
	waitNoVolumeMounts(t, d)
	if _, err := os.Stat(filepath.Join(host, "written")); err != nil {
		t.Errorf("the host directory lost the file after service rm: %v", err)
	}
}

// TestServiceMountErrors: tasks with mounts that Docker refuses are rejected with dockerd's texts:
// the swarm executor's checks, the container create's, and the local driver's for an unknown option.
func TestServiceMountErrors(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	for _, tc := range []struct {
		svc, mount, want string
	}{
		{"relbind", "type=bind,source=relative,target=/d", "invalid bind mount source, must be an absolute path: relative"},
		{"tmpsrc", "type=tmpfs,source=x,target=/t", "invalid tmpfs source, source must be empty"},
		{"reltarget", "type=volume,source=v,target=d", "invalid mount target, must be an absolute path: d"},
		{"absvol", "type=volume,source=/abs,target=/d", "invalid volume mount source, must not be an absolute path: /abs"},
		// moby 28's executor no longer looks for the source: dockerd's container create does.
		{"nosrc", "type=bind,source=/no/such/dir,target=/d", `invalid mount config for type "bind": bind source path does not exist: /no/such/dir`},
		{"badopt", "type=volume,source=badopt,target=/d,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=foo=bar",
			`create badopt: invalid option: "foo"`},
	} {
		d.MustDocker(t, "service", "create", "-d", "--name", tc.svc, "--restart-max-attempts", "1", "--mount", tc.mount,
			imgs["busybox:1"], "sleep", "1000")
		harness.Eventually(t, 60*time.Second, func() (bool, string) {
			// The CLI quotes the task's error as it is: `"<Status.Err>"`.
			ps := d.MustDocker(t, "service", "ps", tc.svc, "--no-trunc", "--format", "{{.CurrentState}}|{{.Error}}")
			for _, l := range strings.Split(ps, "\n") {
				if strings.HasPrefix(l, "Rejected") && strings.HasSuffix(l, `|"`+tc.want+`"`) {
					return true, ps
				}
			}
			return false, ps
		})
	}
	if _, err := os.Stat(filepath.Join(d.DataRoot, "volumes", "badopt")); !os.IsNotExist(err) {
		t.Errorf("the refused volume was created: %v", err)
	}

	// A volume whose mount fails fails its task at start.
	d.MustDocker(t, "service", "create", "-d", "--name", "nodev", "--restart-max-attempts", "1",
		"--mount", "type=volume,source=nodev,target=/d,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/no/such/dir",
		imgs["busybox:1"], "sleep", "1000")
	data := filepath.Join(d.DataRoot, "volumes", "nodev", "_data")
	want := `"starting container failed: error while mounting volume '` + data + `': failed to mount local volume: mount /no/such/dir:` +
		data + `, flags: 0x1000: no such file or directory"`
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "nodev", "--no-trunc", "--format", "{{.CurrentState}}|{{.Error}}")
		for _, l := range strings.Split(ps, "\n") {
			if strings.HasPrefix(l, "Failed") && strings.HasSuffix(l, "|"+want) {
				return true, ps
			}
		}
		return false, ps
	})
	if ms := volumeMounts(t, d); len(ms) != 0 {
		t.Errorf("mounts left by the failed starts: %q", ms)
	}
}
