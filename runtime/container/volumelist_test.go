package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/errdefs"
)

// TestCreateAndListVolumes: volumes made through the API carry their labels and options, an
// unnamed one gets a 64-hex name and the anonymous label, and creating a volume again returns
// it unchanged.
func TestCreateAndListVolumes(t *testing.T) {
	e := newTestEnv(t)
	before := time.Now().Add(-time.Second)
	v, err := e.r.CreateVolume("data1", map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, map[string]string{"team": "a"})
	if err != nil {
		t.Fatal(err)
	}
	want := Volume{
		Name:       "data1",
		Mountpoint: filepath.Join(e.dataRoot, "volumes", "data1", "_data"),
		Labels:     map[string]string{"team": "a"},
		Options:    map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"},
	}
	if v.CreatedAt.Before(before) || v.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt = %v", v.CreatedAt)
	}
	v.CreatedAt = time.Time{}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("created %+v\nwant    %+v", v, want)
	}
	if mounted, _ := isMountPoint(v.Mountpoint); mounted {
		t.Error("a volume with options is mounted before any container uses it")
	}

	// Again, with other labels and options: the volume as it is.
	again, err := e.r.CreateVolume("data1", nil, map[string]string{"team": "b"})
	if err != nil || again.Labels["team"] != "a" || again.Options["type"] != "tmpfs" {
		t.Errorf("create again = %+v, %v", again, err)
	}

	anon, err := e.r.CreateVolume("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon.Name) {
		t.Errorf("anonymous volume name %q", anon.Name)
	}
	if l, ok := anon.Labels[AnonymousVolumeLabel]; !ok || l != "" || len(anon.Labels) != 1 || anon.Options != nil {
		t.Errorf("anonymous volume labels %v options %v", anon.Labels, anon.Options)
	}
	plain, err := e.r.CreateVolume("b-plain", nil, nil)
	if err != nil || plain.Labels != nil || plain.Options != nil {
		t.Errorf("plain volume %+v, %v", plain, err)
	}

	// A directory being created (no _data yet) is not a volume.
	if err := os.MkdirAll(filepath.Join(e.dataRoot, "volumes", "halfway"), 0o700); err != nil {
		t.Fatal(err)
	}
	list, err := e.r.Volumes()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range list {
		names = append(names, v.Name)
	}
	wantNames := []string{anon.Name, "b-plain", "data1"}
	slices.Sort(wantNames)
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("Volumes() = %v, want %v", names, wantNames)
	}
}

func TestVolumeErrors(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		name    string
		opts    map[string]string
		want    string
		invalid bool
	}{
		{"a", nil, "create a: volume name is too short, names should be at least two alphanumeric characters", true},
		{"no/slash", nil, `create no/slash: "no/slash" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`, true},
		{"badopt", map[string]string{"foo": "bar"}, `create badopt: invalid option: "foo"`, true},
		{"nodevice", map[string]string{"type": "tmpfs"}, `create nodevice: missing required option: "device"`, true},
	} {
		_, err := e.r.CreateVolume(tc.name, tc.opts, nil)
		if err == nil || err.Error() != tc.want || errdefs.IsInvalidParameter(err) != tc.invalid {
			t.Errorf("CreateVolume(%q, %v) = %v, want %q", tc.name, tc.opts, err, tc.want)
		}
	}
	for _, name := range []string{"nope", "../etc", "x"} {
		if _, err := e.r.Volume(name); err == nil || err.Error() != "get "+name+": no such volume" ||
			!errdefs.IsNotFound(err) || !errors.Is(err, ErrNoSuchVolume) {
			t.Errorf("Volume(%q) = %v", name, err)
		}
		if err := e.r.RemoveVolume(name); err == nil || err.Error() != "get "+name+": no such volume" || !errdefs.IsNotFound(err) {
			t.Errorf("RemoveVolume(%q) = %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dataRoot, "volumes", "badopt")); !os.IsNotExist(err) {
		t.Errorf("a refused volume left its directory: %v", err)
	}
}

// TestVolumeInUseUntilContainerRemoved: a container uses the volumes it mounts from its creation
// to its removal, running or not, also after a restart of the runtime; an anonymous volume goes
// with its container and carries the anonymous label while it lives.
func TestVolumeInUseUntilContainerRemoved(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("true")
	s.Mounts = []mount.Mount{
		{Type: mount.TypeVolume, Source: "shared", Target: "/data", VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{"com.docker.stack.namespace": "st"}}},
		{Type: mount.TypeVolume, Target: "/anon"},
	}
	c, err := e.r.Create(testCtx(t), s)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := e.r.Volume("shared")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shared.UsedBy, []string{c.ID}) || shared.Labels["com.docker.stack.namespace"] != "st" {
		t.Errorf("shared = %+v", shared)
	}
	// the image's /data content was copied up
	if b, err := os.ReadFile(filepath.Join(shared.Mountpoint, "seed")); err != nil || string(b) != "from the image\n" {
		t.Errorf("copy-up: %q %v", b, err)
	}
	var anon Volume
	list, _ := e.r.Volumes()
	for _, v := range list {
		if v.Name != "shared" {
			anon = v
		}
	}
	if _, ok := anon.Labels[AnonymousVolumeLabel]; !ok || !reflect.DeepEqual(anon.UsedBy, []string{c.ID}) {
		t.Errorf("anonymous volume = %+v", anon)
	}

	inUse := "remove shared: volume is in use - [" + c.ID + "]"
	if err := e.r.RemoveVolume("shared"); err == nil || err.Error() != inUse || !errdefs.IsConflict(err) || !errors.Is(err, ErrVolumeInUse) {
		t.Errorf("remove while created: %v", err)
	}
	if err := e.r.Start(testCtx(t), c.ID); err != nil {
		t.Fatal(err)
	}
	e.wait(c.ID)
	if err := e.r.RemoveVolume("shared"); err == nil || err.Error() != inUse {
		t.Errorf("remove while exited: %v", err)
	}

	// A new runtime on the same directories knows the users again.
	e.r.Close()
	e.r = e.open()
	if err := e.r.RemoveVolume("shared"); err == nil || err.Error() != inUse {
		t.Errorf("remove after a restart: %v", err)
	}

	if err := e.r.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.r.Volume(anon.Name); !errdefs.IsNotFound(err) {
		t.Errorf("the anonymous volume outlived its container: %v", err)
	}
	if v, err := e.r.Volume("shared"); err != nil || len(v.UsedBy) != 0 {
		t.Errorf("shared after the container's removal = %+v, %v", v, err)
	}
	if err := e.r.RemoveVolume("shared"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.dataRoot, "volumes", "shared")); !os.IsNotExist(err) {
		t.Errorf("removed volume's directory: %v", err)
	}
}

// TestVolumeMetaOfOlderVolumes: a volume made before labels were kept shows the options of its
// opts.json and no labels.
func TestVolumeMetaOfOlderVolumes(t *testing.T) {
	e := newTestEnv(t)
	if _, err := e.r.CreateVolume("old", map[string]string{"type": "tmpfs", "device": "tmpfs"}, map[string]string{"x": "y"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(e.dataRoot, "volumes", "old", volumeMetaFile)); err != nil {
		t.Fatal(err)
	}
	v, err := e.r.Volume("old")
	if err != nil {
		t.Fatal(err)
	}
	if v.Labels != nil || !reflect.DeepEqual(v.Options, map[string]string{"type": "tmpfs", "device": "tmpfs"}) {
		t.Errorf("old volume labels %v options %v", v.Labels, v.Options)
	}
}

func TestDirSize(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", 100)
	write("sub/b", 1000)
	write("sub/deeper/empty", 0)
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "sub", "a-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "symlink")); err != nil {
		t.Fatal(err)
	}
	got, err := DirSize(context.Background(), dir)
	if want := int64(100 + 1000 + len("a")); err != nil || got != want {
		t.Errorf("DirSize = %d, %v; want %d (hard links once, symlinks by their own size)", got, err, want)
	}
	if _, err := DirSize(context.Background(), filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("DirSize of a missing directory: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := DirSize(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("DirSize with a cancelled context: %v", err)
	}
}
