package containerapi

import (
	"context"
	"slices"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/errdefs"
)

// TestContainersPrune: containers that do not run go, filtered by label, label! and until; the
// space reclaimed is that of their writable layers.
func TestContainersPrune(t *testing.T) {
	b, rt, _ := newRuntimeBackend(t)
	ctx := context.Background()
	a := createContainer(t, rt, map[string]string{"app": "a"}, 1000)
	keep := createContainer(t, rt, map[string]string{"app": "a", "keep": "1"}, 10)
	other := createContainer(t, rt, map[string]string{"app": "b"}, 200)

	list, err := b.Containers(ctx, containertypes.ListOptions{All: true, Size: true})
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %+v %v", list, err)
	}
	for _, s := range list {
		want := map[string]int64{a.ID: 1000, keep.ID: 10, other.ID: 200}[s.ID]
		if s.SizeRw != want || s.SizeRootFs != want { // no image store: the image counts 0
			t.Errorf("sizes of %s: rw %d rootfs %d, want %d", s.ID[:12], s.SizeRw, s.SizeRootFs, want)
		}
	}
	if list, _ := b.Containers(ctx, containertypes.ListOptions{All: true}); list[0].SizeRw != 0 {
		t.Errorf("sizes without size=1: %+v", list[0])
	}

	// until before their creation keeps everything.
	b.now = func() time.Time { return time.Now() }
	rep, err := b.ContainersPrune(ctx, filters.NewArgs(filters.Arg("until", "1h")))
	if err != nil || rep.ContainersDeleted != nil || rep.SpaceReclaimed != 0 {
		t.Errorf("until 1h ago: %+v %v", rep, err)
	}
	rep, err = b.ContainersPrune(ctx, filters.NewArgs(filters.Arg("label", "app=a"), filters.Arg("label!", "keep")))
	if err != nil || !slices.Equal(rep.ContainersDeleted, []string{a.ID}) || rep.SpaceReclaimed != 1000 {
		t.Errorf("label prune: %+v %v", rep, err)
	}
	rep, err = b.ContainersPrune(ctx, filters.NewArgs())
	want := []string{keep.ID, other.ID}
	slices.Sort(want)
	got := slices.Clone(rep.ContainersDeleted)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, want) || rep.SpaceReclaimed != 210 {
		t.Errorf("prune all: %+v %v", rep, err)
	}
	if left := rt.List(); len(left) != 0 {
		t.Errorf("containers left: %d", len(left))
	}

	for _, tc := range []struct {
		f    filters.Args
		want string
	}{
		{filters.NewArgs(filters.Arg("status", "exited")), "invalid filter 'status'"},
		{filters.NewArgs(filters.Arg("until", "1h"), filters.Arg("until", "2h")), "more than one until filter specified"},
		{filters.NewArgs(filters.Arg("until", "soon")), ""},
	} {
		_, err := b.ContainersPrune(ctx, tc.f)
		if err == nil || !errdefs.IsInvalidParameter(err) || (tc.want != "" && err.Error() != tc.want) {
			t.Errorf("ContainersPrune(%v) = %v, want %q", tc.f, err, tc.want)
		}
	}
}

func TestPruneOneAtATime(t *testing.T) {
	var p pruning
	done, err := p.start()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.start(); err == nil || err.Error() != "a prune operation is already running" || !errdefs.IsConflict(err) {
		t.Errorf("second prune: %v", err)
	}
	done()
	if done, err := p.start(); err != nil {
		t.Errorf("prune after the first ended: %v", err)
	} else {
		done()
	}
}
