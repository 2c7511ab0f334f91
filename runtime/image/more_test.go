package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// historyImage is the app image with a config history: two layers and one empty entry on top.
func historyImage(t testing.TB) v1.Image {
	t.Helper()
	base, top := appLayers(t)
	img := testImage(t, "amd64", appConfig, base, top)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	at := func(s int64) v1.Time { return v1.Time{Time: time.Unix(1700000000+s, 0).UTC()} }
	cf.History = []v1.History{
		{Created: at(0), CreatedBy: "ADD base /", Comment: "base"},
		{Created: at(1), CreatedBy: "COPY app /"},
		{Created: at(2), CreatedBy: "CMD [\"--serve\"]", EmptyLayer: true},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func loadArchive(t testing.TB, s *Store, refs map[string]v1.Image) {
	t.Helper()
	var out bytes.Buffer
	if err := s.LoadImage(context.Background(), bytes.NewReader(dockerArchive(t, refs)), &out, true); err != nil {
		t.Fatalf("load: %v\n%s", err, out.String())
	}
}

func TestTagAndHistory(t *testing.T) {
	s := newTestStore(t, t.TempDir())
	ctx := context.Background()
	img := historyImage(t)
	id := mustConfigName(t, img)
	loadArchive(t, s, map[string]v1.Image{"app:1": img})

	insp, err := s.ImageInspect(ctx, "app:1")
	if err != nil || !insp.Metadata.LastTagTime.IsZero() {
		t.Fatalf("after load, LastTagTime must be zero as dockerd's: %v %v", insp.Metadata.LastTagTime, err)
	}
	tagTime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return tagTime }
	if err := s.TagImage(ctx, "app:1", "127.0.0.1:5000/other"); err != nil {
		t.Fatal(err)
	}
	insp, _ = s.ImageInspect(ctx, id)
	if got := strings.Join(insp.RepoTags, ","); got != "127.0.0.1:5000/other:latest,app:1" {
		t.Errorf("RepoTags %s", got)
	}
	if !insp.Metadata.LastTagTime.Equal(tagTime) {
		t.Errorf("LastTagTime %v, want %v", insp.Metadata.LastTagTime, tagTime)
	}
	if err := s.TagImage(ctx, "nope", "x:1"); !errdefs.IsNotFound(err) || err.Error() != "No such image: nope:latest" {
		t.Errorf("tag of missing image: %v", err)
	}
	if err := s.TagImage(ctx, "app:1", "x@sha256:"+strings.Repeat("a", 64)); !errdefs.IsInvalidParameter(err) {
		t.Errorf("tag with a digest: %v", err)
	}
	// Untagging one name leaves the other.
	if _, err := s.ImageDelete(ctx, "app:1", false, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, "127.0.0.1:5000/other"); err != nil {
		t.Errorf("other tag gone with the first: %v", err)
	}

	hist, err := s.ImageHistory(ctx, "127.0.0.1:5000/other:latest")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 {
		t.Fatalf("history has %d entries: %+v", len(hist), hist)
	}
	h0, h1, h2 := hist[0], hist[1], hist[2]
	if h0.ID != id || strings.Join(h0.Tags, ",") != "127.0.0.1:5000/other:latest" || h0.CreatedBy != "CMD [\"--serve\"]" || h0.Size != 0 || h0.Created != 1700000002 {
		t.Errorf("top entry %+v", h0)
	}
	if h1.ID != "<missing>" || len(h1.Tags) != 0 || h1.CreatedBy != "COPY app /" || h1.Size != 2+3 { // data/new + bin/app
		t.Errorf("middle entry %+v", h1)
	}
	if h2.ID != "<missing>" || h2.Comment != "base" || h2.Size != 4+4+3+2 {
		t.Errorf("bottom entry %+v", h2)
	}
	if _, err := s.ImageHistory(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("history of missing: %v", err)
	}
}

// tarEntries reads a tar into name → content.
func tarEntries(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[hdr.Name] = data
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	reg := startRegistry(t)
	ctx := context.Background()
	s := newTestStore(t, t.TempDir())
	pulled := historyImage(t)
	pushImage(t, reg+"/test/app:1", pulled) // gzip layers, kept as pulled
	var out bytes.Buffer
	if err := s.PullImage(ctx, reg+"/test/app:1", "", nil, &out); err != nil {
		t.Fatal(err)
	}
	loaded := testImage(t, "amd64", v1.Config{Cmd: []string{"sh"}}, testLayer(t, fileEntry{name: "only", body: "x"}))
	loadArchive(t, s, map[string]v1.Image{"loaded:2": loaded}) // plain tar layers

	var saved bytes.Buffer
	if err := s.ExportImage(ctx, []string{reg + "/test/app", "loaded:2", "loaded:2"}, &saved); err != nil {
		t.Fatal(err)
	}
	entries := tarEntries(t, saved.Bytes())
	var manifest []dockerManifestItem
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil || len(manifest) != 2 {
		t.Fatalf("manifest.json %s: %v", entries["manifest.json"], err)
	}
	if got := strings.Join(manifest[0].RepoTags, ","); got != reg+"/test/app:1" || manifest[0].Config != "blobs/sha256/"+hexOf(mustConfigName(t, pulled)) {
		t.Errorf("manifest item %+v", manifest[0])
	}
	for _, item := range manifest {
		for _, l := range item.Layers {
			if got := digestOf(entries[l]); "blobs/sha256/"+hexOf(got) != l {
				t.Errorf("layer %s has digest %s: the layer must be the tar whose digest is its diffID", l, got)
			}
		}
	}
	for _, f := range []string{"index.json", "oci-layout", "repositories"} {
		if entries[f] == nil {
			t.Errorf("archive lacks %s", f)
		}
	}

	// Load into an empty store: same images, same IDs, same tags.
	s2 := newTestStore(t, t.TempDir())
	out.Reset()
	if err := s2.LoadImage(ctx, bytes.NewReader(saved.Bytes()), &out, true); err != nil {
		t.Fatalf("load of saved archive: %v", err)
	}
	for ref, img := range map[string]v1.Image{reg + "/test/app:1": pulled, "loaded:2": loaded} {
		got, err := s2.Resolve(ctx, ref)
		if err != nil || got.ID != mustConfigName(t, img) {
			t.Errorf("%s after round trip: %v %v", ref, got, err)
		}
	}

	// Errors come before any byte.
	saved.Reset()
	if err := s.ExportImage(ctx, []string{"loaded:2", "loaded:3"}, &saved); !errdefs.IsNotFound(err) || err.Error() != "reference does not exist" || saved.Len() != 0 {
		t.Errorf("save of a missing tag: %v, %d bytes", err, saved.Len())
	}
	if err := s.ExportImage(ctx, []string{"nothere"}, &saved); !errdefs.IsNotFound(err) || saved.Len() != 0 {
		t.Errorf("save of a missing repository: %v", err)
	}
	// An image ID saves the image without tags.
	if err := s.ExportImage(ctx, []string{mustConfigName(t, loaded)[:19]}, &saved); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(tarEntries(t, saved.Bytes())["manifest.json"], &manifest)
	if len(manifest) != 1 || len(manifest[0].RepoTags) != 0 {
		t.Errorf("save by ID: %+v", manifest)
	}
}

func TestPushToRegistry(t *testing.T) {
	reg := startRegistry(t)
	ctx := context.Background()
	s := newTestStore(t, t.TempDir())
	img := historyImage(t)
	loadArchive(t, s, map[string]v1.Image{"app:1": img})
	if err := s.TagImage(ctx, "app:1", reg+"/team/app:1"); err != nil {
		t.Fatal(err)
	}
	if err := s.TagImage(ctx, "app:1", reg+"/team/app:2"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.PushImage(ctx, reg+"/team/app:1", &registry.AuthConfig{}, &out); err != nil {
		t.Fatalf("push: %v\n%s", err, out.String())
	}
	lines := progressLines(t, out.Bytes())
	ids := []string{}
	for _, d := range mustDiffIDs(t, img) {
		ids = append(ids, shortID(d))
	}
	for _, want := range []string{"The push refers to repository [" + reg + "/team/app]", ids[0] + ": Preparing", ids[0] + ": Pushed", ids[1] + ": Pushed"} {
		if !containsLine(lines, want) {
			t.Errorf("push output lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	last := lines[len(lines)-2] // the aux message comes last
	if !strings.HasPrefix(last, "1: digest: sha256:") || !strings.Contains(last, " size: ") {
		t.Errorf("last line %q", last)
	}
	var aux struct{ Tag, Digest string }
	for _, l := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		var m jsonmessage.JSONMessage
		if json.Unmarshal(l, &m) == nil && m.Aux != nil {
			json.Unmarshal(*m.Aux, &aux)
		}
	}
	if aux.Tag != "1" || !strings.Contains(last, aux.Digest) {
		t.Errorf("aux %+v, last %q", aux, last)
	}
	// The registry now serves the image, under the digest announced.
	ref, _ := name.ParseReference(reg+"/team/app:1", name.Insecure)
	desc, err := remote.Get(ref)
	if err != nil || desc.Digest.String() != aux.Digest {
		t.Fatalf("registry: %v %v", desc, err)
	}
	got, _ := desc.Image()
	if mustConfigName(t, got) != mustConfigName(t, img) {
		t.Errorf("pushed image has another ID")
	}
	insp, _ := s.ImageInspect(ctx, "app:1")
	if !containsLine(insp.RepoDigests, reg+"/team/app@"+aux.Digest) {
		t.Errorf("RepoDigests %v lack the pushed digest", insp.RepoDigests)
	}

	// All tags; the layers are there now.
	out.Reset()
	if err := s.PushImage(ctx, reg+"/team/app", nil, &out); err != nil {
		t.Fatal(err)
	}
	lines = progressLines(t, out.Bytes())
	for _, want := range []string{ids[0] + ": Layer already exists", ids[1] + ": Layer already exists"} {
		if !containsLine(lines, want) {
			t.Errorf("second push lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	n := 0
	for _, l := range lines {
		if strings.Contains(l, ": digest: sha256:") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("push of all tags pushed %d tags:\n%s", n, strings.Join(lines, "\n"))
	}

	// Another store pulls it back with the same ID.
	s2 := newTestStore(t, t.TempDir())
	if err := s2.PullImage(ctx, reg+"/team/app:2", "", nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	if g, err := s2.Resolve(ctx, reg+"/team/app:2"); err != nil || g.ID != mustConfigName(t, img) {
		t.Errorf("pulled back %v %v", g, err)
	}

	for _, tt := range []struct{ ref, want string }{
		{reg + "/missing:1", "An image does not exist locally with the tag: " + reg + "/missing"},
		{reg + "/team/app:9", "tag does not exist: " + reg + "/team/app:9"},
	} {
		out.Reset()
		err := s.PushImage(ctx, tt.ref, nil, &out)
		if err == nil || err.Error() != tt.want || !strings.Contains(out.String(), "The push refers to repository") {
			t.Errorf("push %s: %v (output %q)", tt.ref, err, out.String())
		}
	}
	closed := freeLoopbackAddr(t)
	if err := s.TagImage(ctx, "app:1", closed+"/x:1"); err != nil {
		t.Fatal(err)
	}
	err = s.PushImage(ctx, closed+"/x:1", nil, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), `Get "http://`+closed+`/v2/": dial tcp `) || strings.Contains(err.Error(), "https") {
		t.Errorf("push to a closed port: %v", err)
	}
}

func mustDiffIDs(t testing.TB, img v1.Image) []string {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(cf.RootFS.DiffIDs) - 1; i >= 0; i-- { // top-most first
		out = append(out, cf.RootFS.DiffIDs[i].String())
	}
	return out
}

func TestPullAllTags(t *testing.T) {
	reg := startRegistry(t)
	ctx := context.Background()
	img1 := historyImage(t)
	img2 := testImage(t, "amd64", v1.Config{}, testLayer(t, fileEntry{name: "two", body: "2"}))
	pushImage(t, reg+"/all/app:1", img1)
	pushImage(t, reg+"/all/app:2", img2)
	s := newTestStore(t, t.TempDir())
	var out bytes.Buffer
	if err := s.PullAllTags(ctx, reg+"/all/app", "", nil, &out); err != nil {
		t.Fatal(err)
	}
	lines := progressLines(t, out.Bytes())
	if last := lines[len(lines)-1]; last != "Status: Downloaded newer image for "+reg+"/all/app" {
		t.Errorf("last line %q", last)
	}
	if !containsLine(lines, "1: Pulling from all/app") || !containsLine(lines, "2: Pulling from all/app") {
		t.Errorf("lines:\n%s", strings.Join(lines, "\n"))
	}
	for ref, img := range map[string]v1.Image{reg + "/all/app:1": img1, reg + "/all/app:2": img2} {
		if g, err := s.Resolve(ctx, ref); err != nil || g.ID != mustConfigName(t, img) {
			t.Errorf("%s: %v %v", ref, g, err)
		}
	}
	out.Reset()
	if err := s.PullAllTags(ctx, reg+"/all/app", "", nil, &out); err != nil {
		t.Fatal(err)
	}
	if lines := progressLines(t, out.Bytes()); lines[len(lines)-1] != "Status: Image is up to date for "+reg+"/all/app" {
		t.Errorf("second pull: %q", lines[len(lines)-1])
	}
	if err := s.PullAllTags(ctx, reg+"/all/app:1", "", nil, &out); !errdefs.IsInvalidParameter(err) {
		t.Errorf("tagged reference: %v", err)
	}
}

func TestPlainHTTPAttempt(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`Get "https://127.0.0.1:5998/v2/": dial tcp 127.0.0.1:5998: connect: connection refused; Get "http://127.0.0.1:5998/v2/": dial tcp 127.0.0.1:5998: connect: connection refused`,
			`Get "http://127.0.0.1:5998/v2/": dial tcp 127.0.0.1:5998: connect: connection refused`},
		{`Get "https://r/v2/": x509: bad`, `Get "https://r/v2/": x509: bad`},
		{`other; Get "http://r/v2/": y`, `other; Get "http://r/v2/": y`},
	} {
		if got := plainHTTPAttempt(tt.in); got != tt.want {
			t.Errorf("plainHTTPAttempt(%q) = %q", tt.in, got)
		}
	}
	s := newTestStore(t, t.TempDir())
	closed := freeLoopbackAddr(t)
	err := s.PullImage(context.Background(), closed+"/app:1", "", nil, io.Discard)
	want := `Get "http://` + closed + `/v2/": dial tcp ` + closed + `: connect: connection refused`
	if err == nil || err.Error() != want {
		t.Errorf("pull from a closed port: %v, want %s", err, want)
	}
}
