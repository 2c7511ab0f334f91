package container

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// mountAt returns the mount at path, or nil.
func mountAt(t *testing.T, path string) *mountinfo.Info {
	t.Helper()
	ms, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		return nil
	}
	return ms[len(ms)-1]
}

// unmountOnCleanup makes sure nothing stays mounted at or below dir after the test.
func unmountOnCleanup(t *testing.T, dir string) {
	t.Cleanup(func() {
		if err := unmountAll(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

func TestMountWithOptions(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	unmountOnCleanup(t, base)

	tmpfs := filepath.Join(base, "tmpfs")
	if err := os.Mkdir(tmpfs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mountWithOptions("tmpfs", tmpfs, "tmpfs", "size=1m,mode=700,nosuid"); err != nil {
		t.Fatal(err)
	}
	m := mountAt(t, tmpfs)
	if m == nil || m.FSType != "tmpfs" || !strings.Contains(m.VFSOptions, "size=1024k") ||
		!strings.Contains(m.VFSOptions, "mode=700") || !strings.Contains(m.Options, "nosuid") {
		t.Fatalf("tmpfs mount = %+v", m)
	}

	bind := filepath.Join(base, "bind")
	if err := os.Mkdir(bind, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mountWithOptions(src, bind, "none", "bind,ro"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(bind, "f")); err != nil || string(b) != "host\n" {
		t.Fatalf("bind content %q %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(bind, "g"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("write in a read-only bind: %v", err)
	}

	bad := filepath.Join(base, "bad")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	err := mountWithOptions("/no/such/dir", bad, "none", "bind")
	want := "mount /no/such/dir:" + bad + ", flags: 0x1000: no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}

	for _, p := range []string{tmpfs, bind} {
		if err := detachMount(p); err != nil {
			t.Fatal(err)
		}
		if mountAt(t, p) != nil {
			t.Fatalf("%s still mounted", p)
		}
	}
	if err := detachMount(bad); err != nil {
		t.Fatalf("unmount of nothing: %v", err)
	}
}

// volumeSpec runs cmd with the volume name (with opts when it is created) at /d.
func volumeSpec(name string, opts map[string]string, cmd ...string) Spec {
	s := testSpec(cmd...)
	m := mount.Mount{Type: mount.TypeVolume, Source: name, Target: "/d"}
	if opts != nil {
		m.VolumeOptions = &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "local", Options: opts}}
	}
	s.Mounts = []mount.Mount{m}
	return s
}

func TestTmpfsVolumeMountedWhileUsed(t *testing.T) {
	e := newTestEnv(t)
	data := filepath.Join(e.dataRoot, "volumes", "tv", "_data")
	opts := map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}

	// Two containers share the volume: it is mounted from the first start to the last stop.
	a := e.run(volumeSpec("tv", opts, "sh", "-c", "grep ' /d ' /proc/mounts; echo from-a > /d/f; exec sleep 1000"))
	if m := mountAt(t, data); m == nil || m.FSType != "tmpfs" || !strings.Contains(m.VFSOptions, "size=1024k") {
		t.Fatalf("volume mount while a runs: %+v", m)
	}
	eventually(t, 20*time.Second, "a's output", func() bool { return strings.Contains(e.output(a.ID), "tmpfs /d tmpfs") })
	if !strings.Contains(e.output(a.ID), "size=1024k") {
		t.Fatalf("a sees %q", e.output(a.ID))
	}
	// The later user gives no options: the stored ones hold.
	b := e.run(volumeSpec("tv", nil, "sh", "-c", "cat /d/f; grep ' /d ' /proc/mounts; exec sleep 1000"))
	eventually(t, 20*time.Second, "b's output", func() bool { return strings.Contains(e.output(b.ID), "tmpfs /d tmpfs") })
	if out := e.output(b.ID); !strings.HasPrefix(out, "from-a\n") {
		t.Fatalf("b does not share a's tmpfs: %q", out)
	}
	if err := e.r.Stop(testCtx(t), a.ID, 0); err != nil {
		t.Fatal(err)
	}
	if mountAt(t, data) == nil {
		t.Fatal("volume unmounted while b still uses it")
	}
	if err := e.r.Stop(testCtx(t), b.ID, 0); err != nil {
		t.Fatal(err)
	}
	if m := mountAt(t, data); m != nil {
		t.Fatalf("volume still mounted after the last user stopped: %+v", m)
	}
	if b, err := os.ReadFile(filepath.Join(e.dataRoot, "volumes", "tv", "opts.json")); err != nil ||
		string(b) != `{"MountType":"tmpfs","MountOpts":"size=1m","MountDevice":"tmpfs","Quota":{"Size":0}}` {
		t.Fatalf("opts.json = %s %v", b, err)
	}

	// A restart mounts it again (a fresh tmpfs), and Delete of a running container unmounts.
	if err := e.r.Start(testCtx(t), b.ID); err != nil {
		t.Fatal(err)
	}
	if mountAt(t, data) == nil {
		t.Fatal("not mounted after restart")
	}
	if err := e.r.Delete(b.ID); err != nil {
		t.Fatal(err)
	}
	if m := mountAt(t, data); m != nil {
		t.Fatalf("still mounted after delete: %+v", m)
	}
	if err := e.r.Delete(a.ID); err != nil {
		t.Fatal(err)
	}
}

func TestBindVolumeAndAnonymousRemoval(t *testing.T) {
	host := t.TempDir() // made before the Runtime: removed after its cleanup unmounted everything
	if err := os.WriteFile(filepath.Join(host, "keep"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t)
	opts := map[string]string{"type": "none", "o": "bind", "device": host}

	// An anonymous volume (no name) with options.
	s := volumeSpec("", opts, "sh", "-c", "echo inside > /d/written; cat /d/keep")
	c := e.run(s)
	if code, _ := e.wait(c.ID); code != 0 {
		t.Fatalf("exit %d: %s", code, e.output(c.ID))
	}
	if out := e.output(c.ID); out != "k" {
		t.Fatalf("output %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(host, "written")); err != nil || string(b) != "inside\n" {
		t.Fatalf("host sees %q %v", b, err)
	}
	got, _ := e.r.Get(c.ID)
	data := got.Volumes["/d"]
	if m := mountAt(t, data); m != nil {
		t.Fatalf("mounted after the exit: %+v", m)
	}
	// Removing the container removes its anonymous volume, never the bound directory's content.
	if err := e.r.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(data)); !os.IsNotExist(err) {
		t.Fatalf("anonymous volume left: %v", err)
	}
	for _, f := range []string{"keep", "written"} {
		if _, err := os.Stat(filepath.Join(host, f)); err != nil {
			t.Fatalf("the bound directory lost %s: %v", f, err)
		}
	}
}

func TestVolumeOptionErrors(t *testing.T) {
	e := newTestEnv(t)
	ctx := testCtx(t)

	_, err := e.r.Create(ctx, volumeSpec("badopt", map[string]string{"type": "tmpfs", "device": "tmpfs", "foo": "bar"}, "true"))
	if err == nil || err.Error() != `create badopt: invalid option: "foo"` {
		t.Fatalf("create error = %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dataRoot, "volumes", "badopt")); !os.IsNotExist(err) {
		t.Fatalf("refused volume was created: %v", err)
	}
	_, err = e.r.Create(ctx, volumeSpec("a", nil, "true"))
	if err == nil || err.Error() != "create a: volume name is too short, names should be at least two alphanumeric characters" {
		t.Fatalf("create error = %v", err)
	}

	// A mount that fails fails the start, with moby's texts, and leaves nothing mounted.
	c, err := e.r.Create(ctx, volumeSpec("nodev", map[string]string{"type": "none", "o": "bind", "device": "/no/such/dir"}, "true"))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(e.dataRoot, "volumes", "nodev", "_data")
	err = e.r.Start(ctx, c.ID)
	want := "error while mounting volume '" + data + "': failed to mount local volume: mount /no/such/dir:" + data + ", flags: 0x1000: no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("start error = %v\nwant %s", err, want)
	}
	if mountAt(t, data) != nil {
		t.Fatal("mounted after a failed start")
	}

	// A start that fails after the volume was mounted unmounts it again.
	s := volumeSpec("late", map[string]string{"type": "tmpfs", "device": "tmpfs"}, "/no/such/binary")
	c, err = e.r.Create(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.r.Start(ctx, c.ID); err == nil {
		t.Fatal("start of a missing binary worked")
	}
	if m := mountAt(t, filepath.Join(e.dataRoot, "volumes", "late", "_data")); m != nil {
		t.Fatalf("mounted after a failed start: %+v", m)
	}
}

func TestVolumeCopyUpAndSubpath(t *testing.T) {
	host := t.TempDir()
	if err := os.Mkdir(filepath.Join(host, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "sub", "s"), []byte("in sub\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	e := newTestEnv(t)

	// The image's /data goes into an empty volume at create, as Docker copies it.
	s := testSpec("true")
	s.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: "cp", Target: "/data",
		VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Options: map[string]string{"type": "none", "o": "bind", "device": empty}}}}}
	if _, err := e.r.Create(testCtx(t), s); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(empty, "seed")); err != nil || string(b) != "from the image\n" {
		t.Fatalf("copy-up: %q %v", b, err)
	}
	if m := mountAt(t, filepath.Join(e.dataRoot, "volumes", "cp", "_data")); m != nil {
		t.Fatalf("mounted after create: %+v", m)
	}

	// A subpath is looked up in the mounted volume.
	s = testSpec("cat", "/d/s")
	s.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: "sp", Target: "/d",
		VolumeOptions: &mount.VolumeOptions{Subpath: "sub", DriverConfig: &mount.Driver{Options: map[string]string{"type": "none", "o": "bind", "device": host}}}}}
	if code, out := e.runToExit(s); code != 0 || out != "in sub\n" {
		t.Fatalf("subpath: exit %d %q", code, out)
	}
}

func TestAdoptedVolumeUsersAndIdleUnmount(t *testing.T) {
	e := newTestEnv(t)
	e.r.Close()
	e.r = nil
	opts := map[string]string{"type": "tmpfs", "device": "tmpfs"}
	id := startInHelper(t, e, volumeSpec("av", opts, "sleep", "1000"))
	used := filepath.Join(e.dataRoot, "volumes", "av", "_data")
	// A volume left mounted with no container using it (a shoald that died at the wrong moment).
	idle := filepath.Join(e.dataRoot, "volumes", "idle", "_data")
	if err := os.MkdirAll(idle, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", idle, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}

	e.r = e.open()
	if mountAt(t, idle) != nil {
		t.Fatal("the unused volume is still mounted")
	}
	if mountAt(t, used) == nil {
		t.Fatal("the adopted container's volume was unmounted")
	}
	if err := e.r.Stop(testCtx(t), id, 0); err != nil {
		t.Fatal(err)
	}
	if mountAt(t, used) != nil {
		t.Fatal("the volume is still mounted after its adopted user stopped")
	}
}
