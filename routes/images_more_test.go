package routes

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
)

// fakeImagesMore records the calls of the image endpoints of images_more.go.
type fakeImagesMore struct {
	tagged  []string // "name>newTag"
	saved   [][]string
	pushed  []string
	pushAC  *registry.AuthConfig
	pullAll []string
}

func (f *fakeImages) TagImage(_ context.Context, name, newTag string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name == "nope" {
		return errdefs.NotFound(fmt.Errorf("No such image: nope:latest"))
	}
	f.more.tagged = append(f.more.tagged, name+">"+newTag)
	return nil
}

func (f *fakeImages) ImageHistory(_ context.Context, name string) ([]image.HistoryResponseItem, error) {
	if name == "nope" {
		return nil, errdefs.NotFound(fmt.Errorf("No such image: nope:latest"))
	}
	return []image.HistoryResponseItem{
		{ID: "sha256:" + strings.Repeat("a", 64), Created: 1700000000, CreatedBy: "/bin/sh -c #(nop) CMD [\"sh\"]", Tags: []string{name}},
		{ID: "<missing>", Created: 1700000000, CreatedBy: "/bin/sh -c #(nop) ADD file:x in / ", Size: 4096},
	}, nil
}

func (f *fakeImages) ExportImage(_ context.Context, names []string, out io.Writer) error {
	f.mu.Lock()
	f.more.saved = append(f.more.saved, names)
	f.mu.Unlock()
	for _, n := range names {
		if n == "nope" {
			return errdefs.NotFound(fmt.Errorf("reference does not exist"))
		}
	}
	_, err := io.WriteString(out, "TAR:"+strings.Join(names, ","))
	return err
}

func (f *fakeImages) PushImage(_ context.Context, ref string, ac *registry.AuthConfig, out io.Writer) error {
	f.mu.Lock()
	f.more.pushed = append(f.more.pushed, ref)
	f.more.pushAC = ac
	f.mu.Unlock()
	fmt.Fprintf(out, "{\"status\":\"The push refers to repository [%s]\"}\r\n", strings.TrimSuffix(ref, ":1"))
	if strings.Contains(ref, "missing") {
		return fmt.Errorf("An image does not exist locally with the tag: missing")
	}
	fmt.Fprintf(out, "{\"status\":\"Pushed\",\"progressDetail\":{},\"id\":\"0123456789ab\"}\r\n")
	fmt.Fprintf(out, "{\"status\":\"1: digest: sha256:%s size: 527\"}\r\n", strings.Repeat("b", 64))
	fmt.Fprintf(out, "{\"progressDetail\":{},\"aux\":{\"Tag\":\"1\",\"Digest\":\"sha256:%s\",\"Size\":527}}\r\n", strings.Repeat("b", 64))
	return nil
}

func (f *fakeImages) PullAllTags(_ context.Context, repo, _ string, _ *registry.AuthConfig, out io.Writer) error {
	f.mu.Lock()
	f.more.pullAll = append(f.more.pullAll, repo)
	f.mu.Unlock()
	fmt.Fprintf(out, "{\"status\":\"Status: Downloaded newer image for %s\"}\r\n", repo)
	return nil
}

func TestImageSubresource(t *testing.T) {
	for _, tt := range []struct {
		in, name, action string
		ok               bool
	}{
		{"busybox/history", "busybox", "history", true},
		{"127.0.0.1:5000/a/b:1/tag", "127.0.0.1:5000/a/b:1", "tag", true},
		{"sha256:abc/get", "sha256:abc", "get", true},
		{"busybox", "", "", false},
		{"/history", "", "", false},
		{"busybox/", "", "", false},
	} {
		name, action, ok := imageSubresource(tt.in)
		if name != tt.name || action != tt.action || ok != tt.ok {
			t.Errorf("imageSubresource(%q) = %q %q %v", tt.in, name, action, ok)
		}
	}
}

func TestCLIImageTag(t *testing.T) {
	env := startEnv(t)
	res := env.docker(t, "", "tag", "busybox", "127.0.0.1:5000/app:1")
	if res.code != 0 {
		t.Fatalf("tag: rc %d %q", res.code, res.stderr)
	}
	res = env.docker(t, "", "tag", "nope", "x")
	if res.code == 0 || !strings.Contains(res.stderr, "Error response from daemon: No such image: nope:latest") {
		t.Errorf("tag of a missing image: rc %d %q", res.code, res.stderr)
	}
	if got := strings.Join(env.images.more.tagged, ","); got != "busybox>127.0.0.1:5000/app:1" {
		t.Errorf("tagged %s", got)
	}
	for _, tt := range []struct{ query, want string }{
		{"repo=UPPER", "invalid reference format: repository name (library/UPPER) must be lowercase"},
		{"repo=x&tag=a:b", "invalid tag format"},
		{"repo=sha256", "refusing to create an ambiguous tag using digest algorithm as name"},
		{"repo=x@sha256:" + strings.Repeat("c", 64), "cannot import digest reference"},
	} {
		resp, body := env.do(t, "POST", "/v1.51/images/busybox/tag?"+tt.query, "", "")
		if resp.StatusCode != 400 || !strings.Contains(body, tt.want) {
			t.Errorf("tag %s: %d %s", tt.query, resp.StatusCode, body)
		}
	}
	resp, body := env.do(t, "POST", "/v1.51/images/a/b/tag?repo=c&tag=2", "", "")
	if resp.StatusCode != 201 || body != "" {
		t.Errorf("tag: %d %q", resp.StatusCode, body)
	}
	if got := env.images.more.tagged[len(env.images.more.tagged)-1]; got != "a/b>docker.io/library/c:2" {
		t.Errorf("tagged %s", got)
	}
	resp, _ = env.do(t, "POST", "/v1.51/images/a/b/frobnicate", "", "")
	if resp.StatusCode != 404 {
		t.Errorf("unknown image action: %d", resp.StatusCode)
	}
}

func TestCLIImageHistory(t *testing.T) {
	env := startEnv(t)
	res := env.docker(t, "", "history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}", "busybox")
	want := "sha256:" + strings.Repeat("a", 64) + "|/bin/sh -c #(nop) CMD [\"sh\"]|0B\n<missing>|/bin/sh -c #(nop) ADD file:x in / |4.1kB\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("history: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "history", "nope")
	if res.code == 0 || !strings.Contains(res.stderr, "No such image: nope:latest") {
		t.Errorf("history of a missing image: rc %d %q", res.code, res.stderr)
	}
	resp, body := env.do(t, "GET", "/v1.51/images/busybox/history", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"Tags":[]`) || strings.Contains(body, "null") {
		t.Errorf("history: %d %s", resp.StatusCode, body)
	}
}

func TestCLIImageSave(t *testing.T) {
	env := startEnv(t)
	out := filepath.Join(t.TempDir(), "x.tar")
	res := env.docker(t, "", "save", "-o", out, "busybox", "127.0.0.1:5000/a:1")
	if res.code != 0 {
		t.Fatalf("save: rc %d %q", res.code, res.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || string(b) != "TAR:busybox,127.0.0.1:5000/a:1" {
		t.Errorf("saved %q %v", b, err)
	}
	resp, body := env.do(t, "GET", "/v1.51/images/busybox:1/get", "", "")
	if resp.StatusCode != 200 || body != "TAR:busybox:1" || resp.Header.Get("Content-Type") != "application/x-tar" {
		t.Errorf("get: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	resp, body = env.do(t, "GET", "/v1.51/images/get?names=nope", "", "")
	if resp.StatusCode != 404 || !strings.Contains(body, `"message":"reference does not exist"`) {
		t.Errorf("get nope: %d %q", resp.StatusCode, body)
	}
	resp, body = env.do(t, "GET", "/v1.51/images/get?names=a&platform=linux/amd64&platform=linux/arm64", "", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "multiple platform parameters not supported") {
		t.Errorf("get with two platforms: %d %q", resp.StatusCode, body)
	}
}

func TestCLIImagePush(t *testing.T) {
	env := startEnv(t)
	res := env.docker(t, "", "push", "127.0.0.1:5000/app:1")
	if res.code != 0 || !strings.Contains(res.stdout, "The push refers to repository [127.0.0.1:5000/app]") ||
		!strings.Contains(res.stdout, "0123456789ab: Pushed") || !strings.Contains(res.stdout, "1: digest: sha256:") {
		t.Errorf("push: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "push", "--all-tags", "127.0.0.1:5000/app")
	if res.code != 0 {
		t.Errorf("push -a: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "push", "127.0.0.1:5000/missing:1")
	if res.code == 0 || !strings.Contains(res.stderr, "An image does not exist locally with the tag: missing") {
		t.Errorf("push missing: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	if got := strings.Join(env.images.more.pushed, ","); got != "127.0.0.1:5000/app:1,127.0.0.1:5000/app,127.0.0.1:5000/missing:1" {
		t.Errorf("pushed %s", got)
	}
	resp, body := env.do(t, "POST", "/v1.51/images/UPPER/push?tag=1", "", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "invalid reference format") {
		t.Errorf("push UPPER: %d %q", resp.StatusCode, body)
	}
}

func TestCLIPullAllTags(t *testing.T) {
	env := startEnv(t)
	res := env.docker(t, "", "pull", "-a", "127.0.0.1:5000/app")
	if res.code != 0 || !strings.Contains(res.stdout, "Status: Downloaded newer image for 127.0.0.1:5000/app") {
		t.Errorf("pull -a: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "pull", "127.0.0.1:5000/app")
	if res.code != 0 {
		t.Errorf("pull: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	if got := strings.Join(env.images.more.pullAll, ","); got != "127.0.0.1:5000/app" {
		t.Errorf("pulled all tags of %s", got)
	}
	if got := strings.Join(env.images.pulled, ","); got != "127.0.0.1:5000/app:latest" {
		t.Errorf("pulled %s", got)
	}
}
