package image

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// appLayers are a base layer and one that deletes, replaces and hides parts of it.
func appLayers(t testing.TB) (base, top v1.Layer) {
	base = testLayer(t,
		fileEntry{name: "etc/", typ: tar.TypeDir},
		fileEntry{name: "etc/keep", body: "keep"},
		fileEntry{name: "etc/gone", body: "gone"},
		fileEntry{name: "data/", typ: tar.TypeDir},
		fileEntry{name: "data/old", body: "old"},
		fileEntry{name: "bin/app", body: "v1", mode: 0o755},
	)
	top = testLayer(t,
		fileEntry{name: "etc/.wh.gone"},
		fileEntry{name: "data/.wh..wh..opq"},
		fileEntry{name: "data/new", body: "new"},
		fileEntry{name: "bin/app", body: "v2", mode: 0o755},
	)
	return base, top
}

var appConfig = v1.Config{
	Entrypoint:   []string{"/bin/app"},
	Cmd:          []string{"--serve"},
	Env:          []string{"PATH=/bin", "MODE=test"},
	WorkingDir:   "/data",
	User:         "42:42",
	ExposedPorts: map[string]struct{}{"80/tcp": {}},
	StopSignal:   "SIGQUIT",
	Labels:       map[string]string{"role": "web"},
	Healthcheck:  &v1.HealthConfig{Test: []string{"CMD", "/bin/app", "check"}, Interval: 5 * time.Second, Retries: 3},
}

func TestPullShowsProgressAndStoresImage(t *testing.T) {
	reg := startRegistry(t)
	base, top := appLayers(t)
	img := testImage(t, "amd64", appConfig, base, top)
	ref := reg + "/test/app:1"
	pushImage(t, ref, img)

	s := newTestStore(t, t.TempDir())
	var out bytes.Buffer
	if err := s.PullImage(context.Background(), ref, "", nil, &out); err != nil {
		t.Fatalf("pull: %v", err)
	}
	lines := progressLines(t, out.Bytes())
	manifestDigest := mustDigest(t, img)
	baseID := shortID(mustDigest(t, base))
	for _, want := range []string{
		"1: Pulling from test/app",
		baseID + ": Pulling fs layer",
		baseID + ": Downloading",
		baseID + ": Download complete",
		baseID + ": Extracting",
		baseID + ": Pull complete",
		"Digest: " + manifestDigest,
		"Status: Downloaded newer image for " + ref,
	} {
		if !containsLine(lines, want) {
			t.Errorf("progress lacks %q; got:\n%s", want, strings.Join(lines, "\n"))
		}
	}

	res, err := s.Resolve(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustConfigName(t, img); res.ID != want {
		t.Errorf("ID = %s, want config digest %s", res.ID, want)
	}
	if !slices.Equal(res.RepoTags, []string{ref}) || !slices.Equal(res.RepoDigests, []string{reg + "/test/app@" + manifestDigest}) {
		t.Errorf("tags %v digests %v", res.RepoTags, res.RepoDigests)
	}
	c := res.Config
	if !slices.Equal(c.Entrypoint, appConfig.Entrypoint) || !slices.Equal(c.Cmd, appConfig.Cmd) || !slices.Equal(c.Env, appConfig.Env) ||
		c.WorkingDir != "/data" || c.User != "42:42" || c.StopSignal != "SIGQUIT" || c.Labels["role"] != "web" {
		t.Errorf("config = %+v", c)
	}
	if _, ok := c.ExposedPorts["80/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v", c.ExposedPorts)
	}
	if c.Healthcheck == nil || c.Healthcheck.Interval != 5*time.Second || c.Healthcheck.Retries != 3 || c.Healthcheck.Test[2] != "check" {
		t.Errorf("Healthcheck = %+v", c.Healthcheck)
	}
	if len(res.LayerDirs) != 2 {
		t.Fatalf("LayerDirs = %v", res.LayerDirs)
	}
	if got := readFile(t, filepath.Join(res.LayerDirs[0], "bin", "app")); got != "v1" {
		t.Errorf("lowest layer bin/app = %q, want v1 (lowest first)", got)
	}
	if res.LowerDir() != res.LayerDirs[1]+":"+res.LayerDirs[0] {
		t.Errorf("LowerDir = %q, want top-most first", res.LowerDir())
	}
	if res.Size != int64(len("keepgoneoldv1")+len("newv2")) {
		t.Errorf("Size = %d", res.Size)
	}

	// Pulling again changes nothing.
	out.Reset()
	if err := s.PullImage(context.Background(), ref, "", nil, &out); err != nil {
		t.Fatal(err)
	}
	lines = progressLines(t, out.Bytes())
	if !containsLine(lines, "Status: Image is up to date for "+ref) || containsLine(lines, baseID+": Pulling fs layer") {
		t.Errorf("second pull:\n%s", strings.Join(lines, "\n"))
	}

	// A second image on the same base reuses the unpacked base layer.
	other := testImage(t, "amd64", v1.Config{Cmd: []string{"sh"}}, base, testLayer(t, fileEntry{name: "other", body: "o"}))
	pushImage(t, reg+"/test/other:latest", other)
	out.Reset()
	if err := s.PullImage(context.Background(), reg+"/test/other", "", nil, &out); err != nil {
		t.Fatal(err)
	}
	if lines := progressLines(t, out.Bytes()); !containsLine(lines, baseID+": Already exists") || !containsLine(lines, "latest: Pulling from test/other") {
		t.Errorf("shared layer not reused:\n%s", strings.Join(lines, "\n"))
	}
	res2, err := s.EnsureImage(context.Background(), reg+"/test/other:latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.LayerDirs[0] != res.LayerDirs[0] {
		t.Errorf("base layer dirs differ: %s vs %s", res2.LayerDirs[0], res.LayerDirs[0])
	}

	list, err := s.Images(context.Background(), image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", "*/test/app"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != res.ID || list[0].Labels["role"] != "web" || list[0].Containers != 0 {
		t.Errorf("Images(reference) = %+v", list)
	}
	list, err = s.Images(context.Background(), image.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "role=web"))})
	if err != nil || len(list) != 1 {
		t.Errorf("Images(label) = %+v, %v", list, err)
	}
	if _, err := s.Images(context.Background(), image.ListOptions{Filters: filters.NewArgs(filters.Arg("bogus", "x"))}); !errdefs.IsInvalidParameter(err) {
		t.Errorf("bogus filter: %v", err)
	}

	ins, err := s.ImageInspect(context.Background(), res.ID[:19])
	if err != nil {
		t.Fatal(err)
	}
	if ins.ID != res.ID || ins.Os != "linux" || ins.Architecture != "amd64" || ins.Created != "2024-05-06T07:08:09Z" ||
		len(ins.RootFS.Layers) != 2 || ins.GraphDriver.Data["UpperDir"] != res.LayerDirs[1] || ins.Config.Healthcheck == nil {
		t.Errorf("inspect = %+v", ins)
	}
}

func TestPullMultiArchIndex(t *testing.T) {
	reg := startRegistry(t)
	amd := toOCI(t, testImage(t, "amd64", v1.Config{Cmd: []string{"amd"}}, testLayer(t, fileEntry{name: "arch", body: "amd64"})))
	arm := toOCI(t, testImage(t, "arm64", v1.Config{Cmd: []string{"arm"}}, testLayer(t, fileEntry{name: "arch", body: "arm64"})))
	idx := multiArch(amd, arm)
	ref := reg + "/multi/arch:2"
	pushIndex(t, ref, idx)
	indexDigest := mustDigest(t, idx)

	s := newTestStore(t, t.TempDir())
	var out bytes.Buffer
	if err := s.PullImage(context.Background(), ref, "", nil, &out); err != nil {
		t.Fatal(err)
	}
	res, err := s.Resolve(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != mustConfigName(t, amd) || res.Arch != "amd64" {
		t.Errorf("pulled %s (%s), want the amd64 image %s", res.ID, res.Arch, mustConfigName(t, amd))
	}
	if got := readFile(t, filepath.Join(res.LayerDirs[0], "arch")); got != "amd64" {
		t.Errorf("arch file = %q", got)
	}
	if !slices.Equal(res.RepoDigests, []string{reg + "/multi/arch@" + indexDigest}) {
		t.Errorf("RepoDigests = %v, want the index digest", res.RepoDigests)
	}
	if !containsLine(progressLines(t, out.Bytes()), "Digest: "+indexDigest) {
		t.Errorf("progress lacks index digest")
	}

	out.Reset()
	if err := s.PullImage(context.Background(), ref, "linux/arm64", nil, &out); err != nil {
		t.Fatal(err)
	}
	res, err = s.Resolve(context.Background(), ref)
	if err != nil || res.ID != mustConfigName(t, arm) {
		t.Errorf("arm64 pull gave %v %v", res, err)
	}

	err = s.PullImage(context.Background(), ref, "linux/s390x", nil, &out)
	if err == nil || err.Error() != "no matching manifest for linux/s390x in the manifest list entries" || !errdefs.IsNotFound(err) {
		t.Errorf("s390x: %v", err)
	}

	di, err := s.DistributionInspect(context.Background(), ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if di.Descriptor.Digest.String() != indexDigest || di.Descriptor.MediaType != "application/vnd.oci.image.index.v1+json" ||
		di.Descriptor.Size == 0 || len(di.Platforms) != 2 || di.Platforms[1].Architecture != "arm64" || di.Platforms[1].Variant != "v8" {
		t.Errorf("distribution inspect = %+v", di)
	}
}

func TestPullErrorsCarryRegistryText(t *testing.T) {
	reg := startRegistry(t)
	s := newTestStore(t, t.TempDir())
	ctx := context.Background()
	// The repository exists, the tag does not.
	pushImage(t, reg+"/nope/missing:other", testImage(t, "amd64", v1.Config{}, testLayer(t, fileEntry{name: "f"})))

	_, err := s.EnsureImage(ctx, reg+"/nope/missing:3", nil)
	if err == nil || !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "manifest unknown") ||
		!strings.HasPrefix(err.Error(), "manifest for "+reg+"/nope/missing:3 not found: ") {
		t.Errorf("missing image: %v", err)
	}
	var out bytes.Buffer
	if err := s.PullImage(ctx, reg+"/nope/missing:3", "", nil, &out); err == nil || out.Len() != 0 {
		t.Errorf("failed pull wrote %q (err %v); nothing must be written before the manifest is found", out.String(), err)
	}
	if _, err := s.DistributionInspect(ctx, reg+"/nope/missing:3", nil); !errdefs.IsNotFound(err) {
		t.Errorf("distribution inspect of missing: %v", err)
	}

	closed := freeLoopbackAddr(t)
	_, err = s.EnsureImage(ctx, closed+"/app:1", nil)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("closed port: %v", err)
	}
	if _, err := s.DistributionInspect(ctx, closed+"/app:1", nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("distribution inspect, closed port: %v", err)
	}

	if err := s.PullImage(ctx, "Not/Valid", "", nil, &out); !errdefs.IsInvalidParameter(err) {
		t.Errorf("invalid reference: %v", err)
	}
	if _, err := s.EnsureImage(ctx, "sha256:"+strings.Repeat("a", 64), nil); !errdefs.IsNotFound(err) ||
		err.Error() != "No such image: sha256:"+strings.Repeat("a", 64) {
		t.Errorf("missing ID: %v", err)
	}
}

func TestPullWithAuth(t *testing.T) {
	reg := startAuthRegistry(t, "alice", "s3cret")
	img := testImage(t, "amd64", v1.Config{Cmd: []string{"x"}}, testLayer(t, fileEntry{name: "f", body: "private"}))
	ref := reg + "/private/app:1"
	pushImage(t, ref, img, basicAuth("alice", "s3cret"))

	s := newTestStore(t, t.TempDir())
	_, err := s.EnsureImage(context.Background(), ref, nil)
	if err == nil || !strings.Contains(err.Error(), "unauthorized: authentication required") {
		t.Errorf("anonymous pull: %v", err)
	}
	header, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: "alice", Password: "s3cret", ServerAddress: reg})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := DecodeRegistryAuth(header)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.EnsureImage(context.Background(), ref, ac)
	if err != nil {
		t.Fatalf("pull with auth: %v", err)
	}
	if got := readFile(t, filepath.Join(res.LayerDirs[0], "f")); got != "private" {
		t.Errorf("f = %q", got)
	}
	if _, err := DecodeRegistryAuth("!!not base64"); !errdefs.IsInvalidParameter(err) {
		t.Errorf("bad header: %v", err)
	}
}

func TestOverlayMountOfPulledImage(t *testing.T) {
	reg := startRegistry(t)
	base, top := appLayers(t)
	ref := reg + "/test/app:overlay"
	pushImage(t, ref, testImage(t, "amd64", appConfig, base, top))
	s := newTestStore(t, t.TempDir())
	res, err := s.EnsureImage(context.Background(), ref, nil)
	if err != nil {
		t.Fatal(err)
	}

	work := t.TempDir()
	upper, wdir, merged := filepath.Join(work, "upper"), filepath.Join(work, "work"), filepath.Join(work, "merged")
	for _, d := range []string{upper, wdir, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + res.LowerDir() + ",upperdir=" + upper + ",workdir=" + wdir
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay (%s): %v", opts, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})

	if _, err := os.Stat(filepath.Join(merged, "etc", "gone")); !os.IsNotExist(err) {
		t.Errorf("whiteout: etc/gone still visible (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(merged, "data", "old")); !os.IsNotExist(err) {
		t.Errorf("opaque dir: data/old still visible (%v)", err)
	}
	for path, want := range map[string]string{"etc/keep": "keep", "data/new": "new", "bin/app": "v2"} {
		if got := readFile(t, filepath.Join(merged, path)); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

func TestConcurrentPullsUnpackOnce(t *testing.T) {
	reg := startRegistry(t)
	base, top := appLayers(t)
	img := testImage(t, "amd64", appConfig, base, top)
	pushImage(t, reg+"/test/app:1", img)
	pushImage(t, reg+"/test/app:same", img)
	s := newTestStore(t, t.TempDir())

	refs := []string{reg + "/test/app:1", reg + "/test/app:same", reg + "/test/app:1", reg + "/test/app:same"}
	errs := make(chan error, len(refs))
	for _, ref := range refs {
		go func() {
			var out bytes.Buffer
			errs <- s.PullImage(context.Background(), ref, "", nil, &out)
		}()
	}
	for range refs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	layers, err := s.layers.list()
	if err != nil || len(layers) != 2 {
		t.Errorf("layer dirs = %v, %v; want 2", layers, err)
	}
	tmp, _ := os.ReadDir(s.tmpDir)
	if len(tmp) != 0 {
		t.Errorf("tmp not cleaned: %v", tmp)
	}
	res, err := s.Resolve(context.Background(), reg+"/test/app:same")
	if err != nil || !slices.Equal(res.RepoTags, []string{reg + "/test/app:1", reg + "/test/app:same"}) {
		t.Errorf("tags %v, %v", res, err)
	}
}
