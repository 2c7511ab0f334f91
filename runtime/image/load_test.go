package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// dockerArchive writes images as `docker save` does (go-containerregistry's tarball format).
func dockerArchive(t testing.TB, refs map[string]v1.Image) []byte {
	t.Helper()
	m := map[name.Reference]v1.Image{}
	for r, img := range refs {
		ref, err := name.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		m[ref] = img
	}
	var buf bytes.Buffer
	if err := tarball.MultiRefWrite(m, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarDir tars a directory tree (an OCI layout).
func tarDir(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = rel
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadDockerArchive(t *testing.T) {
	s := newTestStore(t, t.TempDir())
	ctx := context.Background()
	base, top := appLayers(t)
	img1 := testImage(t, "amd64", appConfig, base, top)
	img2 := testImage(t, "amd64", v1.Config{Cmd: []string{"two"}}, testLayer(t, fileEntry{name: "two", body: "2"}))
	archive := dockerArchive(t, map[string]v1.Image{
		"busybox:latest":                         img1,
		"127.0.0.1:5000/whoami:1":                img1,
		"example.com/x/y@" + mustDigest(t, img2): img2,
	})

	var out bytes.Buffer
	if err := s.LoadImage(ctx, bytes.NewReader(archive), &out, false); err != nil {
		t.Fatal(err)
	}
	lines := progressLines(t, out.Bytes())
	for _, want := range []string{
		"stream: Loaded image: busybox:latest\n",
		"stream: Loaded image: 127.0.0.1:5000/whoami:1\n",
		"stream: Loaded image ID: " + mustConfigName(t, img2) + "\n",
	} {
		if !containsLine(lines, want) {
			t.Errorf("output lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	diff, err := base.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	if !containsLine(lines, shortID(diff.String())+": Loading layer") {
		t.Errorf("no Loading layer progress:\n%s", strings.Join(lines, "\n"))
	}

	res, err := s.Resolve(ctx, "docker.io/library/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != mustConfigName(t, img1) || !slices.Equal(res.RepoTags, []string{"127.0.0.1:5000/whoami:1", "busybox:latest"}) {
		t.Errorf("loaded %s tags %v", res.ID, res.RepoTags)
	}
	if got := readFile(t, filepath.Join(res.LayerDirs[1], "data", "new")); got != "new" {
		t.Errorf("data/new = %q", got)
	}
	if _, err := s.Resolve(ctx, mustConfigName(t, img2)); err != nil {
		t.Errorf("untagged image: %v", err)
	}

	// Loading another image under a used tag moves the tag and says so, quietly.
	img3 := testImage(t, "amd64", v1.Config{Cmd: []string{"three"}}, testLayer(t, fileEntry{name: "three", body: "3"}))
	out.Reset()
	if err := s.LoadImage(ctx, bytes.NewReader(dockerArchive(t, map[string]v1.Image{"busybox:latest": img3})), &out, true); err != nil {
		t.Fatal(err)
	}
	lines = progressLines(t, out.Bytes())
	want := []string{
		"stream: The image busybox:latest already exists, renaming the old one with ID " + mustConfigName(t, img1) + " to empty string\n",
		"stream: Loaded image: busybox:latest\n",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("quiet load output:\n%q\nwant\n%q", lines, want)
	}
}

func TestLoadOCILayout(t *testing.T) {
	s := newTestStore(t, t.TempDir())
	ctx := context.Background()
	amd := toOCI(t, testImage(t, "amd64", v1.Config{Cmd: []string{"oci"}}, testLayer(t, fileEntry{name: "oci", body: "amd"})))
	arm := toOCI(t, testImage(t, "arm64", v1.Config{Cmd: []string{"oci"}}, testLayer(t, fileEntry{name: "oci", body: "arm"})))
	plain := toOCI(t, testImage(t, "amd64", v1.Config{Cmd: []string{"plain"}}, testLayer(t, fileEntry{name: "plain", body: "p"})))

	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(multiArch(amd, arm), layout.WithAnnotations(map[string]string{
		annotationImageName: "docker.io/library/ocitest:3", annotationRefName: "3"})); err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(plain, layout.WithAnnotations(map[string]string{annotationRefName: "example.com/plain:1"})); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := s.LoadImage(ctx, bytes.NewReader(tarDir(t, dir)), &out, true); err != nil {
		t.Fatal(err)
	}
	lines := progressLines(t, out.Bytes())
	want := []string{"stream: Loaded image: ocitest:3\n", "stream: Loaded image: example.com/plain:1\n"}
	if !slices.Equal(lines, want) {
		t.Errorf("output %q, want %q", lines, want)
	}
	res, err := s.Resolve(ctx, "ocitest:3")
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != mustConfigName(t, amd) || readFile(t, filepath.Join(res.LayerDirs[0], "oci")) != "amd" {
		t.Errorf("loaded %s, want the amd64 image", res.ID)
	}
	if _, err := s.Resolve(ctx, "example.com/plain:1"); err != nil {
		t.Error(err)
	}
	if _, err := s.Resolve(ctx, mustConfigName(t, arm)); !errdefs.IsNotFound(err) {
		t.Errorf("arm64 image was loaded: %v", err)
	}
}

func TestLoadRejectsBadArchives(t *testing.T) {
	dataRoot := t.TempDir()
	s := newTestStore(t, dataRoot)
	ctx := context.Background()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(hdr *tar.Header, body string) {
		hdr.Size = int64(len(body))
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		hdr.Mode = 0o644
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	write(&tar.Header{Name: "../../evil"}, "evil")
	write(&tar.Header{Name: "cfg", Typeflag: tar.TypeSymlink, Linkname: "/etc/hostname"}, "")
	write(&tar.Header{Name: "manifest.json"}, `[{"Config":"cfg","RepoTags":["x:1"],"Layers":[]}]`)
	tw.Close()

	var out bytes.Buffer
	err := s.LoadImage(ctx, &buf, &out, false)
	if err == nil || !errdefs.IsInvalidParameter(err) {
		t.Fatalf("err = %v, want invalid archive", err)
	}
	if _, err := os.Stat(filepath.Join(dataRoot, "evil")); err == nil {
		t.Error("archive wrote outside its directory")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dataRoot), "evil")); err == nil {
		t.Error("archive wrote outside its directory")
	}
	if err := s.LoadImage(ctx, strings.NewReader("not a tar at all, just text that is long enough to not be a header"), &out, false); err == nil {
		t.Error("garbage loaded")
	}
	if list, _ := s.Images(ctx, imageListAll()); len(list) != 0 {
		t.Errorf("images after failed loads: %+v", list)
	}
}
