package harness

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"golang.org/x/crypto/bcrypt"

	"github.com/shoal-project/shoal/testimages/build"
)

// RegistryBinary is Debian's docker-registry (distribution 2.8).
const RegistryBinary = "/usr/bin/docker-registry"

// Registry is a running docker-registry with its storage in a test temp
// dir: on loopback (StartRegistry), or inside a network namespace (the
// registry host of a Cluster).
type Registry struct {
	Addr  string // host:port, e.g. 127.0.0.1:41234 or 198.18.0.254:5000
	Dir   string
	Log   string // the registry's output
	NetNS string // the namespace it runs in; "" for the test's own

	transport http.RoundTripper
}

// StartRegistry runs docker-registry on 127.0.0.1 and a free port, waits
// until GET /v2/ answers 200, and kills it at cleanup (printing its log
// tail if the test failed).
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return startRegistry(t, "", "127.0.0.1:"+strconv.Itoa(port), nil)
}

// StartRegistryWithAuth is StartRegistry with basic authentication (htpasswd) for one user. The
// harness itself (PushImages) sends the credentials; daemons must be given them.
func StartRegistryWithAuth(t testing.TB, user, password string) *Registry {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return startRegistry(t, "", "127.0.0.1:"+strconv.Itoa(port), &basicAuth{user: user, password: password})
}

// basicAuth is a registry's single user.
type basicAuth struct{ user, password string }

// authTransport adds basic credentials to every request.
type authTransport struct {
	next http.RoundTripper
	auth *basicAuth
}

func (a authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.SetBasicAuth(a.auth.user, a.auth.password)
	return a.next.RoundTrip(req)
}

// startRegistry runs docker-registry on addr inside the network namespace
// netns ("" for the test's own) and waits until it answers.
func startRegistry(t testing.TB, netns, addr string, auth *basicAuth) *Registry {
	t.Helper()
	if _, err := os.Stat(RegistryBinary); err != nil {
		t.Fatalf("harness: %v (install Debian's docker-registry: make deps)", err)
	}
	dir := t.TempDir()
	r := &Registry{Addr: addr, Dir: dir, Log: filepath.Join(dir, "registry.log"), NetNS: netns, transport: remote.DefaultTransport}
	if netns != "" {
		// The test process reaches the registry from inside its namespace.
		r.transport = &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return DialInNetNS(ctx, netns, network, addr)
			},
		}
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "storage"), r.Addr)
	if auth != nil {
		hash, err := bcrypt.GenerateFromPassword([]byte(auth.password), bcrypt.DefaultCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(auth.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		config += fmt.Sprintf("auth:\n  htpasswd:\n    realm: shoal-test\n    path: %s\n", htpasswd)
		r.transport = authTransport{next: r.transport, auth: auth}
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(r.Log)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{RegistryBinary, "serve", cfgPath}
	if netns != "" {
		args = append([]string{"nsenter", "--net=" + netnsPath(netns), "--"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("harness: start registry: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("harness: registry log tail:\n%s", tailFile(r.Log, 50))
		}
	})

	client := &http.Client{Transport: r.transport, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("harness: registry exited: %v\n%s", cmd.ProcessState, tailFile(r.Log, 50))
		default:
		}
		resp, err := client.Get("http://" + r.Addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || (auth != nil && resp.StatusCode == http.StatusUnauthorized) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("harness: registry not answering /v2/ within 30s (last: %v)\n%s", err, tailFile(r.Log, 50))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Transport is the HTTP transport that reaches the registry from the test
// process (through its namespace for a cluster's registry host).
func (r *Registry) Transport() http.RoundTripper { return r.transport }

// Ref returns the reference of image (e.g. "whoami:1") in this registry.
func (r *Registry) Ref(image string) string { return r.Addr + "/" + image }

// Images maps the standard images' short references ("whoami:1") to their
// references in a registry ("127.0.0.1:41234/whoami:1").
type Images map[string]string

// PushImages builds the standard test images (build.Standard: busybox,
// whoami:1 and :2, sleeper, exitcode, healthy, each also as :latest) and
// pushes them all to reg.
func PushImages(t testing.TB, reg *Registry) Images {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	images, err := build.Standard(ctx)
	if err != nil {
		t.Fatalf("harness: build test images: %v", err)
	}
	out := Images{}
	for _, n := range images {
		ref := reg.Ref(n.Ref)
		parsed, err := name.ParseReference(ref, name.Insecure)
		if err != nil {
			t.Fatalf("harness: push %s: %v", ref, err)
		}
		if err := remote.Write(parsed, n.Image, remote.WithContext(ctx), remote.WithTransport(reg.transport)); err != nil {
			t.Fatalf("harness: push %s: %v", ref, err)
		}
		out[n.Ref] = ref
	}
	return out
}

// WriteImageArchive writes the standard images with the given short
// references (e.g. "busybox:1"; none means all) as a `docker load` archive
// in a temp dir and returns its path.
func WriteImageArchive(t testing.TB, refs ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	images, err := build.Standard(ctx)
	if err != nil {
		t.Fatalf("harness: build test images: %v", err)
	}
	want := map[string]bool{}
	for _, r := range refs {
		want[r] = true
	}
	selected := map[string]v1.Image{}
	for _, n := range images {
		if len(refs) == 0 || want[n.Ref] {
			selected[n.Ref] = n.Image
			delete(want, n.Ref)
		}
	}
	if len(want) > 0 {
		t.Fatalf("harness: no standard images %v", want)
	}
	path := filepath.Join(t.TempDir(), "images.tar")
	if err := build.WriteArchive(path, selected); err != nil {
		t.Fatal(err)
	}
	return path
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FreeLoopbackAddr is 127.0.0.1 with a port free now, e.g. for a swarm's --listen-addr, so that
// daemons of tests running at the same time do not fight over 2377.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}
