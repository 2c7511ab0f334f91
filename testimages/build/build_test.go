package build

import (
	"archive/tar"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// entries lists a layer's tar entries by path.
func entries(t *testing.T, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(h.Name, "/")] = h
	}
}

func TestLayer(t *testing.T) {
	files := []File{
		{Path: "/a/b/c.txt", Data: []byte("hi")},
		{Path: "/bin/run", Mode: 0o755, Data: []byte("x")},
		{Path: "/bin/sh", Link: "/bin/run"},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
	}
	l, err := Layer(files)
	if err != nil {
		t.Fatal(err)
	}
	got := entries(t, l)
	want := map[string]struct {
		typ  byte
		mode int64
		link string
	}{
		"a":         {tar.TypeDir, 0o755, ""},
		"a/b":       {tar.TypeDir, 0o755, ""},
		"a/b/c.txt": {tar.TypeReg, 0o644, ""},
		"bin":       {tar.TypeDir, 0o755, ""},
		"bin/run":   {tar.TypeReg, 0o755, ""},
		"bin/sh":    {tar.TypeSymlink, 0o777, "/bin/run"},
		"tmp":       {tar.TypeDir, 0o1777, ""},
	}
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d", len(got), len(want))
	}
	for p, w := range want {
		h, ok := got[p]
		if !ok {
			t.Errorf("missing %s", p)
			continue
		}
		if h.Typeflag != w.typ || h.Mode != w.mode || h.Linkname != w.link {
			t.Errorf("%s: type %c mode %o link %q, want %c %o %q", p, h.Typeflag, h.Mode, h.Linkname, w.typ, w.mode, w.link)
		}
		if !h.ModTime.Equal(buildTime) {
			t.Errorf("%s: mtime %v, want %v", p, h.ModTime, buildTime)
		}
	}
	// Same files, other order: same digest.
	l2, err := Layer([]File{files[3], files[2], files[1], files[0]})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := l.Digest()
	d2, _ := l2.Digest()
	if d1 != d2 {
		t.Errorf("layer digest depends on file order: %v vs %v", d1, d2)
	}
}

func TestBaseLayerHasBusyboxApplets(t *testing.T) {
	l, err := BaseLayer()
	if err != nil {
		t.Fatal(err)
	}
	got := entries(t, l)
	if h := got["bin/busybox"]; h == nil || h.Typeflag != tar.TypeReg || h.Mode != 0o755 || h.Size < 100000 {
		t.Fatalf("bin/busybox missing or wrong: %+v", h)
	}
	for _, applet := range []string{"bin/sh", "bin/cat", "bin/sleep", "bin/echo", "bin/hostname", "usr/bin/nslookup", "usr/bin/wget", "usr/bin/nc", "bin/ps", "sbin/ip", "bin/ping", "bin/ls"} {
		h := got[applet]
		if h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != BusyboxPath {
			t.Errorf("applet %s: %+v", applet, h)
		}
	}
	if h := got["tmp"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp: %+v", h)
	}
	if h := got["etc/passwd"]; h == nil || h.Size == 0 {
		t.Errorf("etc/passwd: %+v", h)
	}
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStandardImages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	images, err := Standard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byRef := map[string]v1.Image{}
	var refs []string
	for _, n := range images {
		byRef[n.Ref] = n.Image
		refs = append(refs, n.Ref)
	}
	wantRefs := "busybox:1 busybox:latest exitcode:1 exitcode:latest healthy:1 healthy:latest sleeper:1 sleeper:latest whoami:1 whoami:2 whoami:latest"
	if got := strings.Join(refs, " "); got != wantRefs {
		t.Fatalf("refs:\n got %s\nwant %s", got, wantRefs)
	}
	if digest(t, byRef["whoami:1"]) != digest(t, byRef["whoami:latest"]) {
		t.Error("whoami:latest is not whoami:1")
	}
	if digest(t, byRef["whoami:1"]) == digest(t, byRef["whoami:2"]) {
		t.Error("whoami:2 has the same digest as whoami:1")
	}

	cf, err := byRef["healthy:1"].ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture == "" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	hc := cf.Config.Healthcheck
	if hc == nil || strings.Join(hc.Test, " ") != "CMD /healthy -check" || hc.Interval != time.Second || hc.Retries != 2 {
		t.Errorf("healthy healthcheck: %+v", hc)
	}
	if _, ok := cf.Config.ExposedPorts["80/tcp"]; !ok || strings.Join(cf.Config.Entrypoint, " ") != "/healthy" {
		t.Errorf("healthy config: %+v", cf.Config)
	}
	if len(cf.RootFS.DiffIDs) != 2 {
		t.Errorf("healthy has %d layers, want 2", len(cf.RootFS.DiffIDs))
	}

	layers, err := byRef["whoami:1"].Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("whoami layers: %d %v", len(layers), err)
	}
	if h := entries(t, layers[1])["whoami"]; h == nil || h.Mode != 0o755 || h.Size < 100000 {
		t.Errorf("whoami binary: %+v", h)
	}

	// Push to an in-memory registry (a test fake) and read back.
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref := host + "/whoami:2"
	if err := Push(ctx, byRef["whoami:2"], ref); err != nil {
		t.Fatal(err)
	}
	pref, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(pref, remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, pulled) != digest(t, byRef["whoami:2"]) {
		t.Error("pushed and pulled digests differ")
	}

	// Write a docker-load archive and read back.
	archive := filepath.Join(t.TempDir(), "images.tar")
	if err := WriteArchive(archive, map[string]v1.Image{"sleeper:1": byRef["sleeper:1"], "busybox:1": byRef["busybox:1"]}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"sleeper:1", "busybox:1"} {
		tag, err := name.NewTag(r)
		if err != nil {
			t.Fatal(err)
		}
		img, err := tarball.ImageFromPath(archive, &tag)
		if err != nil {
			t.Fatalf("%s from archive: %v", r, err)
		}
		if digest(t, img) != digest(t, byRef[r]) {
			t.Errorf("%s: archive digest differs", r)
		}
	}
}
