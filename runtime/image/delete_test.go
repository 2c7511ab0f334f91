package image

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func imageListAll() image.ListOptions { return image.ListOptions{} }

// fakeUsers is the container runtime's view, for tests.
type fakeUsers struct {
	mu   sync.Mutex
	uses map[string][]ContainerUse
}

func (f *fakeUsers) set(imageID string, uses ...ContainerUse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uses == nil {
		f.uses = map[string][]ContainerUse{}
	}
	f.uses[imageID] = uses
}

func (f *fakeUsers) users(imageID string) []ContainerUse {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uses[imageID]
}

func loadImages(t *testing.T, s *Store, refs map[string]v1.Image) {
	t.Helper()
	var out bytes.Buffer
	if err := s.LoadImage(context.Background(), bytes.NewReader(dockerArchive(t, refs)), &out, true); err != nil {
		t.Fatal(err)
	}
}

func deleted(t *testing.T, recs []image.DeleteResponse) (untagged, deletedIDs []string) {
	t.Helper()
	for _, r := range recs {
		if r.Untagged != "" {
			untagged = append(untagged, r.Untagged)
		}
		if r.Deleted != "" {
			deletedIDs = append(deletedIDs, r.Deleted)
		}
	}
	return untagged, deletedIDs
}

func TestDeleteRefusedWhileInUse(t *testing.T) {
	s := newTestStore(t, t.TempDir())
	users := &fakeUsers{}
	s.SetUsers(users.users)
	ctx := context.Background()
	base, top := appLayers(t)
	img := testImage(t, "amd64", appConfig, base, top)
	id := mustConfigName(t, img)
	loadImages(t, s, map[string]v1.Image{"app:1": img, "app:2": img})
	res, err := s.Resolve(ctx, "app:1")
	if err != nil {
		t.Fatal(err)
	}

	running := "c0ffee" + strings.Repeat("1", 58)
	users.set(id, ContainerUse{ID: running, Running: true})
	list, _ := s.Images(ctx, imageListAll())
	if len(list) != 1 || list[0].Containers != 1 {
		t.Errorf("Images().Containers = %+v", list)
	}

	for _, force := range []bool{false, true} {
		_, err := s.ImageDelete(ctx, id, force, false)
		want := "conflict: unable to delete " + id[7:19] + " (cannot be forced) - image is being used by running container c0ffee111111"
		if err == nil || err.Error() != want || !errdefs.IsConflict(err) {
			t.Errorf("delete by ID (force=%v): %v\nwant %s", force, err, want)
		}
	}
	// With two tags, untagging one is fine even while in use.
	recs, err := s.ImageDelete(ctx, "app:1", false, false)
	if err != nil {
		t.Fatal(err)
	}
	if u, d := deleted(t, recs); !slices.Equal(u, []string{"app:1"}) || d != nil {
		t.Errorf("untag app:1 = %+v", recs)
	}
	// The last reference: refused without force.
	_, err = s.ImageDelete(ctx, "app:2", false, false)
	want := `conflict: unable to remove repository reference "app:2" (must force) - container c0ffee111111 is using its referenced image ` + id[7:19]
	if err == nil || err.Error() != want || !errdefs.IsConflict(err) {
		t.Errorf("untag last ref: %v\nwant %s", err, want)
	}
	// Forced while running: untagged, but the image stays (dangling) for its container.
	recs, err = s.ImageDelete(ctx, "app:2", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if u, d := deleted(t, recs); !slices.Equal(u, []string{"app:2"}) || d != nil {
		t.Errorf("forced untag while running = %+v", recs)
	}
	dangling, _ := s.Images(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("dangling", "true"))})
	if len(dangling) != 1 || dangling[0].ID != id {
		t.Errorf("dangling = %+v", dangling)
	}

	// Stopped container: a forced delete removes the image but keeps its layers for the container.
	users.set(id, ContainerUse{ID: running, Running: false})
	_, err = s.ImageDelete(ctx, id, false, false)
	if want := "conflict: unable to delete " + id[7:19] + " (must be forced) - image is being used by stopped container c0ffee111111"; err == nil || err.Error() != want {
		t.Errorf("delete used by stopped: %v", err)
	}
	recs, err = s.ImageDelete(ctx, id, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, d := deleted(t, recs); len(d) != 3 || d[0] != id { // image + 2 layer chains
		t.Errorf("forced delete = %+v", recs)
	}
	for _, dir := range res.LayerDirs {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("layer of a container's image was removed: %v", err)
		}
	}
	if _, err := s.Resolve(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("image still resolvable: %v", err)
	}
}

func TestDeleteUntagsAndCollectsLayers(t *testing.T) {
	s := newTestStore(t, t.TempDir())
	ctx := context.Background()
	base, top := appLayers(t)
	a := testImage(t, "amd64", appConfig, base, top)
	b := testImage(t, "amd64", v1.Config{Cmd: []string{"b"}}, base)
	loadImages(t, s, map[string]v1.Image{"app:1": a, "other/app:1": a, "base:1": b})
	resA, _ := s.Resolve(ctx, "app:1")
	idA := resA.ID

	_, err := s.ImageDelete(ctx, idA, false, false)
	if want := "conflict: unable to delete " + shortID(idA) + " (must be forced) - image is referenced in multiple repositories"; err == nil || err.Error() != want {
		t.Errorf("delete multi-repo image by ID: %v", err)
	}
	if _, err := s.ImageDelete(ctx, "nope:1", false, false); err == nil || err.Error() != "No such image: nope:1" || !errdefs.IsNotFound(err) {
		t.Errorf("missing: %v", err)
	}

	recs, err := s.ImageDelete(ctx, "app:1", false, false)
	if u, d := deleted(t, recs); err != nil || !slices.Equal(u, []string{"app:1"}) || d != nil {
		t.Errorf("untag app:1 = %+v %v", recs, err)
	}
	if _, err := s.ImageDelete(ctx, "other/app", false, false); err == nil || err.Error() != "No such image: other/app:latest" {
		t.Errorf("other/app means other/app:latest: %v", err)
	}
	recs, err = s.ImageDelete(ctx, "other/app:1", false, false)
	if err != nil {
		t.Fatal(err)
	}
	baseDiff, _ := base.DiffID()
	topDiff, _ := top.DiffID()
	topChain := digestOf([]byte(baseDiff.String() + " " + topDiff.String()))
	u, d := deleted(t, recs)
	if !slices.Equal(u, []string{"other/app:1"}) || !slices.Equal(d, []string{idA, topChain}) {
		t.Errorf("delete other/app:1 = %+v, want untag, image and its own layer %s", recs, topChain)
	}
	if _, err := os.Stat(resA.LayerDirs[1]); !os.IsNotExist(err) {
		t.Errorf("unused top layer kept: %v", err)
	}
	if _, err := os.Stat(resA.LayerDirs[0]); err != nil {
		t.Errorf("base layer shared with base:1 removed: %v", err)
	}

	recs, err = s.ImageDelete(ctx, "base:1", false, false)
	u, d = deleted(t, recs)
	if err != nil || !slices.Equal(u, []string{"base:1"}) || len(d) != 2 || d[1] != baseDiff.String() {
		t.Errorf("delete base:1 = %+v %v", recs, err)
	}
	if left, err := s.layers.list(); err != nil || len(left) != 0 {
		t.Errorf("layers left: %v %v", left, err)
	}
	if list, err := s.Images(ctx, imageListAll()); err != nil || len(list) != 0 {
		t.Errorf("images left: %+v %v", list, err)
	}
}

func TestStoreReloadsAfterRestart(t *testing.T) {
	dataRoot := t.TempDir()
	ctx := context.Background()
	s := newTestStore(t, dataRoot)
	base, top := appLayers(t)
	img := testImage(t, "amd64", appConfig, base, top)
	loadImages(t, s, map[string]v1.Image{"app:1": img, "127.0.0.1:5000/whoami:1": img})
	before, err := s.ImageInspect(ctx, "app:1")
	if err != nil {
		t.Fatal(err)
	}
	listBefore, _ := s.Images(ctx, imageListAll())
	// Work left over by a crash is cleared at start.
	if err := os.WriteFile(s.tmpDir+"/leftover", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	s2 := newTestStore(t, dataRoot)
	after, err := s2.ImageInspect(ctx, "app:1")
	if err != nil {
		t.Fatal(err)
	}
	if after.ID != before.ID || !slices.Equal(after.RepoTags, before.RepoTags) || after.Size != before.Size ||
		!after.Metadata.LastTagTime.Equal(before.Metadata.LastTagTime) || after.Config.Healthcheck == nil {
		t.Errorf("after restart %+v\nbefore %+v", after, before)
	}
	listAfter, _ := s2.Images(ctx, imageListAll())
	if len(listAfter) != len(listBefore) || listAfter[0].ID != listBefore[0].ID || !slices.Equal(listAfter[0].RepoTags, listBefore[0].RepoTags) {
		t.Errorf("list after restart %+v, before %+v", listAfter, listBefore)
	}
	res, err := s2.Resolve(ctx, "127.0.0.1:5000/whoami:1")
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, res.LayerDirs[1]+"/bin/app"); got != "v2" {
		t.Errorf("bin/app = %q", got)
	}
	if _, err := os.Stat(s2.tmpDir + "/leftover"); !os.IsNotExist(err) {
		t.Errorf("tmp not cleared: %v", err)
	}
}
