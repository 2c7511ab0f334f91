package routes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
)

func (f *fakeContainers) ContainerInspectSize(ctx context.Context, name string) (*container.InspectResponse, error) {
	c, err := f.ContainerInspect(ctx, name)
	if err != nil {
		return nil, err
	}
	rw, root := int64(12), int64(4096)
	c.SizeRw, c.SizeRootFs = &rw, &root
	return c, nil
}

func (f *fakeContainers) ContainerWait(ctx context.Context, name, condition string) (<-chan container.WaitResponse, error) {
	if name != "c1" {
		return nil, errdefs.NotFound(fmt.Errorf("No such container: %s", name))
	}
	ch := make(chan container.WaitResponse, 1)
	go func() {
		select {
		case <-f.waitGate():
			ch <- container.WaitResponse{StatusCode: 3}
		case <-ctx.Done():
			ch <- container.WaitResponse{StatusCode: -1, Error: &container.WaitExitError{Message: ctx.Err().Error()}}
		}
	}()
	return ch, nil
}

// waitGate is closed by a test to let the fake's waits on "c1" end (exit code 3).
func (f *fakeContainers) waitGate() chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gate == nil {
		f.gate = make(chan struct{})
	}
	return f.gate
}

func (f *fakeContainers) ContainerStart(_ context.Context, name string) error {
	switch name {
	case "c1":
		return errdefs.NotModified(fmt.Errorf("container is already running"))
	case "stopped":
		return nil
	}
	return errdefs.NotFound(fmt.Errorf("No such container: %s", name))
}

func (f *fakeContainers) ContainerPause(_ context.Context, name string) error {
	if name == "paused" {
		return errdefs.Conflict(fmt.Errorf("Container %s is already paused", name))
	}
	return nil
}

func (f *fakeContainers) ContainerUnpause(_ context.Context, name string) error {
	if name != "paused" {
		return fmt.Errorf("Container %s is not paused", name)
	}
	return nil
}

// TestWaitHeadersFirst: the 200 and its headers come before the condition holds; the body after.
func TestWaitHeadersFirst(t *testing.T) {
	env := startEnv(t)
	req, _ := http.NewRequest(http.MethodPost, "http://docker/v1.51/containers/c1/wait?condition=next-exit", nil)
	resp, err := env.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	close(env.containers.waitGate()) // only now may the wait end
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "{\"StatusCode\":3}\n" {
		t.Errorf("body %q", body)
	}

	for _, tc := range []struct{ path, want string }{
		{"/containers/c1/wait?condition=bogus", `{"message":"invalid condition: \"bogus\""}`},
		{"/containers/zz/wait", `{"message":"No such container: zz"}`},
	} {
		_, body := env.do(t, http.MethodPost, tc.path, "", "")
		if strings.TrimSpace(body) != tc.want {
			t.Errorf("%s: %s", tc.path, body)
		}
	}
}

func TestStartPauseUnpause(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/containers/stopped/start", 204, ""},
		{"POST", "/containers/c1/start", 304, ""},
		{"POST", "/containers/zz/start", 404, `{"message":"No such container: zz"}`},
		{"POST", "/containers/c1/pause", 204, ""},
		{"POST", "/containers/paused/pause", 409, `{"message":"Container paused is already paused"}`},
		{"POST", "/containers/paused/unpause", 204, ""},
		{"POST", "/containers/c1/unpause", 500, `{"message":"Container c1 is not paused"}`},
	} {
		resp, body := env.do(t, tc.method, tc.path, "", "")
		if resp.StatusCode != tc.status || strings.TrimSpace(body) != tc.body {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	resp, body := env.do(t, "POST", "/containers/stopped/start", "application/json", `{"Binds":["/a:/b"]}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "removed in v1.24") {
		t.Errorf("start with a body: %d %s", resp.StatusCode, body)
	}
	if err := c.ContainerPause(ctx, "paused"); !cerrdefs.IsConflict(err) {
		t.Errorf("SDK pause: %v", err)
	}
}

func TestInspectSize(t *testing.T) {
	env := startEnv(t)
	for _, tc := range []struct {
		query string
		sized bool
	}{{"", false}, {"?size=1", true}, {"?size=true", true}, {"?size=0", false}} {
		_, body := env.do(t, "GET", "/containers/c1/json"+tc.query, "", "")
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		_, hasRw := got["SizeRw"]
		if hasRw != tc.sized || (tc.sized && got["SizeRootFs"] != float64(4096)) {
			t.Errorf("%q: %s", tc.query, body)
		}
	}
}
