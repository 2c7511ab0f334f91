package harness

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func pidAlive(pid int) bool {
	_, _, ok := procStat(pid)
	return ok && (proc{pid: pid, start: mustStart(pid)}).alive()
}

func mustStart(pid int) uint64 {
	_, s, _ := procStat(pid)
	return s
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestDaemonLifecycleAndCleanup(t *testing.T) {
	var dir string
	var children []int
	t.Run("daemon", func(t *testing.T) {
		d := StartDaemon(t, Options{Name: "fake"})
		dir = d.Dir
		if !strings.HasPrefix(d.Host, "unix://") || !strings.HasSuffix(d.Host, "proxy.sock") {
			t.Errorf("Host %q does not go through the contract proxy", d.Host)
		}
		if got := d.MustDocker(t, "version", "--format", "{{.Server.APIVersion}}"); got != "1.51" {
			t.Errorf("server API version %q", got)
		}
		v, err := d.Client(t).ServerVersion(context.Background())
		if err != nil || v.APIVersion != "1.51" {
			t.Errorf("SDK ServerVersion: %+v %v", v, err)
		}
		children = append(children, readPid(t, filepath.Join(d.DataRoot, "child.pid")))

		// A crash leaves the "container" running; a restart brings the daemon back.
		pid := d.Pid()
		d.Kill()
		if d.Running() || pidAlive(pid) {
			t.Fatal("daemon alive after Kill")
		}
		if !pidAlive(children[0]) {
			t.Fatal("container child died with the daemon")
		}
		d.Restart()
		if d.Pid() == 0 || d.Pid() == pid {
			t.Fatalf("restart: pid %d (was %d)", d.Pid(), pid)
		}
		children = append(children, readPid(t, filepath.Join(d.DataRoot, "child.pid")))
		if len(mountsUnder(d.Dir)) != 2 {
			t.Errorf("want 2 tmpfs mounts (one per start), got %v", mountsUnder(d.Dir))
		}
		log := d.LogTail(200)
		if strings.Count(log, "=== harness: start") != 2 || !strings.Contains(log, "fake shoald serving") {
			t.Errorf("log tail:\n%s", log)
		}
	})
	if t.Failed() {
		return
	}
	for _, pid := range children {
		if pidAlive(pid) {
			t.Errorf("container child %d survived cleanup", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if m := mountsUnder(dir); len(m) != 0 {
		t.Errorf("mounts survived cleanup: %v", m)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("daemon dir %s survived cleanup: %v", dir, err)
	}
}

// recordingTB captures failures instead of failing the test (Fatal ends the
// calling goroutine, as testing's does).
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, strings.TrimSpace(format))
}
func (r *recordingTB) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recordingTB) Fatal(args ...any)                 { r.Errorf("fatal"); runtime.Goexit() }
func (r *recordingTB) Logf(string, ...any)               {}
func (r *recordingTB) Failed() bool                      { r.mu.Lock(); defer r.mu.Unlock(); return len(r.failures) > 0 }
func (r *recordingTB) Cleanup(f func())                  { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// run calls f with r in its own goroutine, so Fatal can end it.
func (r *recordingTB) run(f func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
}

func TestContractViolationFailsTheTest(t *testing.T) {
	rt := &recordingTB{TB: t}
	rt.run(func(tb testing.TB) {
		d := StartDaemon(tb, Options{Name: "fake"})
		d.Docker(tb, "service", "ls") // the fake answers GET /services with null
	})
	rt.runCleanups()
	got := strings.Join(rt.failures, "\n")
	if !strings.Contains(got, "harness: %s: %v") {
		t.Errorf("contract violation not reported; failures: %q", rt.failures)
	}
}

func TestDaemonThatExitsFailsWithLog(t *testing.T) {
	rt := &recordingTB{TB: t}
	rt.run(func(tb testing.TB) {
		StartDaemon(tb, Options{Name: "fake", Args: []string{"--exit-immediately", "1"}, StartTimeout: 20 * time.Second})
		rt.Errorf("StartDaemon returned")
	})
	rt.runCleanups()
	if len(rt.failures) != 1 || !strings.Contains(rt.failures[0], "did not come up") {
		t.Errorf("failures: %q", rt.failures)
	}
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, 10*time.Second, func() (bool, string) {
		n++
		return n == 3, "n=" + strconv.Itoa(n)
	})
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}

	rt := &recordingTB{TB: t}
	start := time.Now()
	rt.run(func(tb testing.TB) {
		Eventually(tb, 300*time.Millisecond, func() (bool, string) { return false, "still no" })
	})
	if len(rt.failures) != 1 || !strings.HasPrefix(rt.failures[0], "condition not met") {
		t.Errorf("failures: %q", rt.failures)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("Eventually gave up after %v, want about 300ms", d)
	}
}

func TestRegistryAndImages(t *testing.T) {
	reg := StartRegistry(t)
	images := PushImages(t, reg)
	for _, short := range []string{"busybox:1", "whoami:1", "whoami:2", "sleeper:latest", "exitcode:1", "healthy:1"} {
		full, ok := images[short]
		if !ok || full != reg.Addr+"/"+short {
			t.Errorf("image %s: %q", short, full)
			continue
		}
		ref, err := name.ParseReference(full, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(ref)
		if err != nil {
			t.Errorf("registry lacks %s: %v", full, err)
			continue
		}
		if desc.Size == 0 {
			t.Errorf("%s: empty manifest", full)
		}
	}
	path := WriteImageArchive(t, "busybox:1", "sleeper:1")
	if fi, err := os.Stat(path); err != nil || fi.Size() < 1<<20 {
		t.Errorf("archive %s: %v %v", path, fi, err)
	}
}

func TestMountinfoUnescape(t *testing.T) {
	tests := map[string]string{
		`/tmp/a\040b`: "/tmp/a b",
		`/plain`:      "/plain",
		`/x\134y`:     `/x\y`,
	}
	for in, want := range tests {
		if got := unescapeMountPath(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDaemonInNetNS(t *testing.T) {
	ns := NewNetNS(t)
	d := StartDaemon(t, Options{Name: "fake-in-ns", NetNS: ns})
	mine, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := os.Readlink("/proc/" + strconv.Itoa(d.Pid()) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if mine == theirs {
		t.Errorf("daemon runs in the test's network namespace %s", mine)
	}
	if got := d.MustDocker(t, "version", "--format", "{{.Server.APIVersion}}"); got != "1.51" {
		t.Errorf("server API version %q", got)
	}
}
