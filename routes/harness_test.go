package routes

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// testEnv is a server on a unix socket in a temp dir, with its fake backends.
type testEnv struct {
	sock       string
	cluster    *fakeCluster
	images     *fakeImages
	containers *fakeContainers
	events     *fakeEvents
	volumes    *fakeVolumes
}

// newTestConfig returns a Config with every fake backend.
func newTestEnvConfig() (*testEnv, Config) {
	env := &testEnv{
		cluster:    &fakeCluster{info: swarm0()},
		images:     &fakeImages{},
		containers: &fakeContainers{},
		events:     newFakeEvents(),
		volumes:    &fakeVolumes{},
	}
	return env, Config{
		Cluster:       env.cluster,
		System:        fakeSystem{},
		Images:        env.images,
		Containers:    env.containers,
		Events:        env.events,
		LocalNetworks: fakeLocalNetworks{},
		Volumes:       env.volumes,
		ServerVersion: "test-1.0",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// startEnv serves every fake backend; change the fakes before the requests, not during.
func startEnv(t *testing.T) *testEnv {
	t.Helper()
	env, cfg := newTestEnvConfig()
	env.sock = serve(t, New(cfg))
	return env
}

// serve runs h on a fresh unix socket until the test ends and returns the socket path.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "routes") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return sock
}

// sync orders the test's plain reads and writes of the fakes' fields with the handlers' locked
// accesses (a lock/unlock pair of every fake), so that tests may set up and inspect the fakes between
// requests. Every request helper calls it before and after the request.
func (e *testEnv) sync() {
	for _, mu := range []*sync.Mutex{&e.cluster.mu, &e.images.mu, &e.containers.mu, &e.events.mu, &e.volumes.mu} {
		mu.Lock()
		mu.Unlock() //nolint:staticcheck // an empty critical section is the point
	}
}

// syncTransport calls sync around every request of the SDK client.
type syncTransport struct {
	env  *testEnv
	base http.RoundTripper
}

func (s syncTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	s.env.sync()
	defer s.env.sync()
	return s.base.RoundTrip(r)
}

// sdk is a Docker Go SDK client negotiating its version with the server.
func (e *testEnv) sdk(t *testing.T) *client.Client {
	t.Helper()
	hc := &http.Client{Transport: syncTransport{env: e, base: e.httpClient().Transport}}
	c, err := client.NewClientWithOpts(client.WithHost("unix://"+e.sock), client.WithHTTPClient(hc), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// httpClient talks plain HTTP to the socket.
func (e *testEnv) httpClient() *http.Client {
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", e.sock)
		}},
	}
}

// do sends one raw request and returns the response with its body read.
func (e *testEnv) do(t *testing.T, method, path, contentType, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://docker"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	e.sync()
	defer e.sync()
	resp, err := e.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// cliResult is the outcome of one docker CLI run.
type cliResult struct {
	stdout, stderr string
	code           int
}

// docker runs the stock CLI against the server, with its own empty config dir and a deadline.
func (e *testEnv) docker(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	bin, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("docker CLI not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"DOCKER_HOST=unix://" + e.sock, "DOCKER_CONFIG=" + t.TempDir(), "HOME=" + t.TempDir(),
		"PATH=/usr/local/bin:/usr/bin:/bin", "DOCKER_CLI_HINTS=false"}
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	e.sync()
	err = cmd.Run()
	e.sync()
	res := cliResult{stdout: out.String(), stderr: errb.String()}
	if ctx.Err() != nil {
		t.Fatalf("docker %v: timed out; stdout=%q stderr=%q", args, res.stdout, res.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("docker %v: %v", args, err)
	}
	return res
}
