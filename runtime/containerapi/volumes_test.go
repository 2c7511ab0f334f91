package containerapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"
)

// newRuntimeBackend is a Backend over a real runtime in a temporary directory (root needed: the
// containers' root filesystems are overlay mounts). Its containers are only created, never
// started, and are removed when the test ends.
func newRuntimeBackend(t *testing.T) (*Backend, *container.Runtime, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: containers' root filesystems are overlay mounts")
	}
	base := t.TempDir()
	dataRoot := filepath.Join(base, "data")
	rt, err := container.New(container.Options{ExecRoot: filepath.Join(base, "exec"), DataRoot: dataRoot, CgroupParent: "shoal-test-" + randomHex()[:8]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range rt.List() {
			if err := rt.Delete(c.ID); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		rt.Close()
	})
	b := New(rt, nil)
	b.now = func() time.Time { return time.Now() }
	return b, rt, dataRoot
}

// createContainer creates (and does not start) a container with these labels and mounts, whose
// writable layer then holds rwBytes bytes.
func createContainer(t *testing.T, rt *container.Runtime, labels map[string]string, rwBytes int, mounts ...mount.Mount) *container.Container {
	t.Helper()
	lower := t.TempDir()
	if err := os.MkdirAll(filepath.Join(lower, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	c, err := rt.Create(context.Background(), container.Spec{ID: id, Name: "c-" + id[:12], Labels: labels, Cmd: []string{"true"},
		LowerDirs: []string{lower}, Mounts: mounts})
	if err != nil {
		t.Fatal(err)
	}
	if rwBytes > 0 {
		if err := os.WriteFile(filepath.Join(c.UpperDir, "written"), make([]byte, rwBytes), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func volumeNames(vols []*volume.Volume) []string {
	var out []string
	for _, v := range vols {
		out = append(out, v.Name)
	}
	return out
}

func TestVolumeCreateInspectList(t *testing.T) {
	b, _, dataRoot := newRuntimeBackend(t)
	ctx := context.Background()
	v, err := b.VolumeCreate(ctx, volume.CreateOptions{Name: "web-data", Driver: "local", Labels: map[string]string{"tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Name != "web-data" || v.Driver != "local" || v.Scope != "local" || v.Mountpoint != filepath.Join(dataRoot, "volumes", "web-data", "_data") ||
		v.Labels["tier"] != "web" || v.Options == nil || len(v.Options) != 0 || v.UsageData != nil {
		t.Errorf("created %+v", v)
	}
	if _, err := time.Parse(time.RFC3339, v.CreatedAt); err != nil {
		t.Errorf("CreatedAt %q: %v", v.CreatedAt, err)
	}
	got, err := b.VolumeInspect(ctx, "web-data")
	if err != nil || got.CreatedAt != v.CreatedAt || got.Labels["tier"] != "web" {
		t.Errorf("inspect = %+v, %v", got, err)
	}
	if _, err := b.VolumeInspect(ctx, "nope"); err == nil || err.Error() != "get nope: no such volume" || !errdefs.IsNotFound(err) {
		t.Errorf("inspect missing: %v", err)
	}
	tv, err := b.VolumeCreate(ctx, volume.CreateOptions{Name: "tv", DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}})
	if err != nil || tv.Options["o"] != "size=1m" || len(tv.Labels) != 0 || tv.Labels == nil {
		t.Errorf("tmpfs volume %+v, %v", tv, err)
	}
	anon, err := b.VolumeCreate(ctx, volume.CreateOptions{})
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon.Name) {
		t.Fatalf("anonymous volume %+v, %v", anon, err)
	}
	if _, ok := anon.Labels[container.AnonymousVolumeLabel]; !ok {
		t.Errorf("anonymous volume labels %v", anon.Labels)
	}

	_, err = b.VolumeCreate(ctx, volume.CreateOptions{Name: "x1", Driver: "nfsplugin"})
	if want := `create x1: error looking up volume plugin nfsplugin: plugin "nfsplugin" not found`; err == nil || err.Error() != want || !errdefs.IsNotFound(err) {
		t.Errorf("other driver: %v\nwant %s", err, want)
	}
	_, err = b.VolumeCreate(ctx, volume.CreateOptions{Name: "x2", DriverOpts: map[string]string{"bogus": "1"}})
	if err == nil || err.Error() != `create x2: invalid option: "bogus"` || !errdefs.IsInvalidParameter(err) {
		t.Errorf("bad option: %v", err)
	}

	// A container uses web-data: not dangling any more.
	c := createContainer(t, b.rt, nil, 0, mount.Mount{Type: mount.TypeVolume, Source: "web-data", Target: "/data"})
	args := func(kv ...string) filters.Args {
		f := filters.NewArgs()
		for i := 0; i+1 < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		return f
	}
	all := []string{anon.Name, "tv", "web-data"}
	slices.Sort(all)
	for _, tc := range []struct {
		f    filters.Args
		want []string
	}{
		{args(), all},
		{args("name", "web"), []string{"web-data"}},
		{args("name", "^t"), []string{"tv"}},
		{args("driver", "local"), all},
		{args("driver", "other"), nil},
		{args("label", "tier"), []string{"web-data"}},
		{args("label", "tier=db"), nil},
		{args("dangling", "false"), []string{"web-data"}},
		{args("dangling", "true", "name", "tv"), []string{"tv"}},
	} {
		list, warnings, err := b.Volumes(ctx, tc.f)
		if err != nil || warnings == nil || len(warnings) != 0 || !slices.Equal(volumeNames(list), tc.want) || list == nil {
			t.Errorf("Volumes(%v) = %v, %v, %v; want %v", tc.f, volumeNames(list), warnings, err, tc.want)
		}
	}
	if _, _, err := b.Volumes(ctx, args("label!", "x")); err == nil || err.Error() != "invalid filter 'label!'" {
		t.Errorf("label! on a list: %v", err)
	}
	if _, _, err := b.Volumes(ctx, args("dangling", "maybe")); err == nil || !errdefs.IsInvalidParameter(err) {
		t.Errorf("bad dangling value: %v", err)
	}

	// Removal: in use, missing, forced.
	err = b.VolumeRemove(ctx, "web-data", false)
	if want := "remove web-data: volume is in use - [" + c.ID + "]"; err == nil || err.Error() != want || !errdefs.IsConflict(err) {
		t.Errorf("remove in use: %v", err)
	}
	if err := b.VolumeRemove(ctx, "web-data", true); err == nil || !errdefs.IsConflict(err) {
		t.Errorf("forced remove in use: %v", err)
	}
	if err := b.VolumeRemove(ctx, "nope", false); err == nil || err.Error() != "get nope: no such volume" || !errdefs.IsNotFound(err) {
		t.Errorf("remove missing: %v", err)
	}
	if err := b.VolumeRemove(ctx, "nope", true); err != nil {
		t.Errorf("forced remove of a missing volume: %v", err)
	}
	if err := b.ContainerRemove(ctx, c.ID, false, false); err != nil {
		t.Fatal(err)
	}
	if err := b.VolumeRemove(ctx, "web-data", false); err != nil {
		t.Errorf("remove once unused: %v", err)
	}
}

func TestVolumesPruneAndDiskUsage(t *testing.T) {
	b, rt, _ := newRuntimeBackend(t)
	ctx := context.Background()
	mk := func(name string, opts, labels map[string]string, data int) string {
		t.Helper()
		v, err := b.VolumeCreate(ctx, volume.CreateOptions{Name: name, DriverOpts: opts, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		if data > 0 {
			if err := os.WriteFile(filepath.Join(v.Mountpoint, "f"), make([]byte, data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return v.Name
	}
	anonUnused := mk("", nil, nil, 100)
	anonUsed := mk("", nil, nil, 10)
	named := mk("named", nil, map[string]string{"keep": "no"}, 1000)
	namedKeep := mk("named-keep", nil, map[string]string{"keep": "yes"}, 1)
	mk("with-opts", map[string]string{"type": "tmpfs", "device": "tmpfs"}, nil, 0)
	createContainer(t, rt, nil, 0, mount.Mount{Type: mount.TypeVolume, Source: anonUsed, Target: "/data"})

	du, err := b.VolumesDiskUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]string{}
	for _, v := range du {
		if v.UsageData == nil {
			t.Fatalf("no UsageData: %+v", v)
		}
		sizes[v.Name] = fmt.Sprintf("%d %d", v.UsageData.Size, v.UsageData.RefCount)
	}
	want := map[string]string{anonUnused: "100 0", anonUsed: "10 1", named: "1000 0", namedKeep: "1 0"}
	if len(sizes) != len(want) {
		t.Errorf("disk usage of %v, want %v (volumes with options left out)", sizes, want)
	}
	for k, v := range want {
		if sizes[k] != v {
			t.Errorf("disk usage of %s = %q, want %q", k, sizes[k], v)
		}
	}

	// Default: the unused anonymous volumes only.
	rep, err := b.VolumesPrune(ctx, filters.NewArgs())
	if err != nil || !slices.Equal(rep.VolumesDeleted, []string{anonUnused}) || rep.SpaceReclaimed != 100 {
		t.Errorf("default prune = %+v, %v", rep, err)
	}
	rep, err = b.VolumesPrune(ctx, filters.NewArgs())
	if err != nil || rep.VolumesDeleted == nil || len(rep.VolumesDeleted) != 0 {
		t.Errorf("nothing to prune = %+v, %v (want VolumesDeleted [])", rep, err)
	}
	// all=true with label!: every unused volume without options but the kept one.
	rep, err = b.VolumesPrune(ctx, filters.NewArgs(filters.Arg("all", "true"), filters.Arg("label!", "keep=yes")))
	if err != nil || !slices.Equal(rep.VolumesDeleted, []string{named}) || rep.SpaceReclaimed != 1000 {
		t.Errorf("all prune = %+v, %v", rep, err)
	}
	for _, tc := range []struct {
		f    filters.Args
		want string
	}{
		{filters.NewArgs(filters.Arg("all", "yes")), `invalid filter 'all': strconv.ParseBool: parsing "yes": invalid syntax`},
		{filters.NewArgs(filters.Arg("dangling", "true")), "invalid filter 'dangling'"},
	} {
		if _, err := b.VolumesPrune(ctx, tc.f); err == nil || err.Error() != tc.want || !errdefs.IsInvalidParameter(err) {
			t.Errorf("VolumesPrune(%v) = %v, want %q", tc.f, err, tc.want)
		}
	}
	_, err = b.VolumesPrune(ctx, filters.NewArgs(filters.Arg("all", "1"), filters.Arg("all", "true")))
	if err == nil || !regexp.MustCompile(`^invalid filter 'all=\[(1 true|true 1)\]': only one value is expected$`).MatchString(err.Error()) {
		t.Errorf("two values of all: %v", err)
	}
	left, _, _ := b.Volumes(ctx, filters.NewArgs())
	wantLeft := []string{anonUsed, "named-keep", "with-opts"}
	slices.Sort(wantLeft)
	if !slices.Equal(volumeNames(left), wantLeft) {
		t.Errorf("volumes left: %v, want %v", volumeNames(left), wantLeft)
	}
}
