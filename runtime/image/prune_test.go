package image

import (
	"archive/tar"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// layerSizes sums the stored sizes of the layers with these diff IDs.
func layerSizes(t *testing.T, s *Store, diffIDs ...string) int64 {
	t.Helper()
	var total int64
	for _, d := range diffIDs {
		li, err := s.layers.info(d)
		if err != nil {
			t.Fatal(err)
		}
		total += li.Size
	}
	return total
}

func diffIDOf(t *testing.T, l v1.Layer) string {
	t.Helper()
	h, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// TestImagesPrune: the default prune removes the dangling images only, dangling=false every
// image no container uses; the space reclaimed is that of the layers that went.
func TestImagesPrune(t *testing.T) {
	s := newTestStore(t, t.TempDir())
	users := &fakeUsers{}
	s.SetUsers(users.users)
	ctx := context.Background()
	base, top := appLayers(t)
	other := testLayer(t, fileEntry{name: "other", body: strings.Repeat("x", 1000)})
	third := testLayer(t, fileEntry{name: "third", body: strings.Repeat("y", 300)})
	old := testImage(t, "amd64", v1.Config{Cmd: []string{"old"}}, base, other)
	cur := testImage(t, "amd64", appConfig, base, top)
	used := testImage(t, "amd64", v1.Config{Cmd: []string{"used"}}, base)
	labelled := testImage(t, "amd64", v1.Config{Cmd: []string{"l"}, Labels: map[string]string{"prune": "me"}}, third)
	loadImages(t, s, map[string]v1.Image{"app:1": old})
	loadImages(t, s, map[string]v1.Image{"app:1": cur, "used:1": used, "labelled:1": labelled}) // old is now dangling
	idOld, idCur, idUsed, idLabelled := mustConfigName(t, old), mustConfigName(t, cur), mustConfigName(t, used), mustConfigName(t, labelled)
	users.set(idUsed, ContainerUse{ID: strings.Repeat("c", 64), Running: false})

	topSize, otherSize, thirdSize := layerSizes(t, s, diffIDOf(t, top)), layerSizes(t, s, diffIDOf(t, other)), layerSizes(t, s, diffIDOf(t, third))
	wantLayers := layerSizes(t, s, diffIDOf(t, base)) + topSize + otherSize + thirdSize
	if got, err := s.LayersSize(ctx); err != nil || got != wantLayers {
		t.Errorf("LayersSize = %d, %v; want %d", got, err, wantLayers)
	}

	// Default: dangling only.
	rep, err := s.ImagesPrune(ctx, filters.NewArgs())
	if err != nil {
		t.Fatal(err)
	}
	otherChain := digestOf([]byte(diffIDOf(t, base) + " " + diffIDOf(t, other)))
	u, d := deleted(t, rep.ImagesDeleted)
	if len(u) != 0 || !slices.Equal(d, []string{idOld, otherChain}) {
		t.Errorf("dangling prune deleted %+v, want %s and its own layer", rep.ImagesDeleted, idOld)
	}
	if otherSize != 1000 || rep.SpaceReclaimed != uint64(otherSize) {
		t.Errorf("SpaceReclaimed = %d, want %d (the layer only the old image had)", rep.SpaceReclaimed, otherSize)
	}
	if rep, err := s.ImagesPrune(ctx, filters.NewArgs()); err != nil || rep.ImagesDeleted != nil || rep.SpaceReclaimed != 0 {
		t.Errorf("second dangling prune = %+v, %v", rep, err)
	}

	// A label filter narrows dangling=false to the labelled image.
	rep, err = s.ImagesPrune(ctx, filters.NewArgs(filters.Arg("dangling", "false"), filters.Arg("label", "prune=me")))
	if err != nil {
		t.Fatal(err)
	}
	if u, d := deleted(t, rep.ImagesDeleted); !slices.Equal(u, []string{"labelled:1"}) || len(d) != 2 || d[0] != idLabelled || rep.SpaceReclaimed != uint64(thirdSize) {
		t.Errorf("labelled prune = %+v", rep)
	}

	// All unused: app:1 goes, used:1 stays for its stopped container.
	rep, err = s.ImagesPrune(ctx, filters.NewArgs(filters.Arg("dangling", "false")))
	if err != nil {
		t.Fatal(err)
	}
	u, d = deleted(t, rep.ImagesDeleted)
	if !slices.Equal(u, []string{"app:1"}) || len(d) != 2 || d[0] != idCur {
		t.Errorf("prune all = %+v", rep.ImagesDeleted)
	}
	if rep.SpaceReclaimed != uint64(topSize) || topSize == 0 {
		t.Errorf("prune all reclaimed %d, want %d (the base layer stays for used:1)", rep.SpaceReclaimed, topSize)
	}
	list, err := s.Images(ctx, imageListAll())
	if err != nil || len(list) != 1 || list[0].ID != idUsed {
		t.Errorf("images left: %+v %v", list, err)
	}
}

func TestImagesPruneFilterErrors(t *testing.T) {
	s := newTestStore(t, t.TempDir())
	ctx := context.Background()
	for _, tc := range []struct {
		f       filters.Args
		want    string
		invalid bool
	}{
		{filters.NewArgs(filters.Arg("reference", "x")), "invalid filter 'reference'", true},
		{filters.NewArgs(filters.Arg("dangling", "maybe")), "invalid filter 'dangling=[maybe]'", true},
		{filters.NewArgs(filters.Arg("until", "1h"), filters.Arg("until", "2h")), "more than one until filter specified", false},
	} {
		_, err := s.ImagesPrune(ctx, tc.f)
		if err == nil || err.Error() != tc.want || errdefs.IsInvalidParameter(err) != tc.invalid {
			t.Errorf("ImagesPrune(%v) = %v, want %q (invalid parameter: %v)", tc.f, err, tc.want, tc.invalid)
		}
	}
	// The until filter keeps images created after it (test images are from 2024).
	img := testImage(t, "amd64", v1.Config{}, testLayer(t, fileEntry{name: "f", typ: tar.TypeReg, body: "z"}))
	loadImages(t, s, map[string]v1.Image{"x:1": img})
	rep, err := s.ImagesPrune(ctx, filters.NewArgs(filters.Arg("dangling", "false"), filters.Arg("until", "2024-01-01T00:00:00Z")))
	if err != nil || len(rep.ImagesDeleted) != 0 {
		t.Errorf("until before the image's creation: %+v %v", rep, err)
	}
	rep, err = s.ImagesPrune(ctx, filters.NewArgs(filters.Arg("dangling", "false"), filters.Arg("until", "2025-01-01T00:00:00Z")))
	if err != nil || len(rep.ImagesDeleted) != 3 { // untag, image, layer
		t.Errorf("until after the image's creation: %+v %v", rep, err)
	}
}
