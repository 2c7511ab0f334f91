package container

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testRootfs is a busybox root filesystem shared (read-only, as an overlay lower dir) by the
// tests that run containers.
var testRootfs string

func TestMain(m *testing.M) {
	InitIfChild()
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelper())
	}
	code := func() int {
		if os.Geteuid() != 0 {
			fmt.Fprintln(os.Stderr, "runtime/container tests must run as root (namespaces, cgroups, mounts)")
			return 1
		}
		dir, err := os.MkdirTemp("", "shoal-rootfs-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		testRootfs = filepath.Join(dir, "rootfs")
		if err := buildBusyboxRootfs(testRootfs); err != nil {
			fmt.Fprintln(os.Stderr, "building the busybox test rootfs:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// buildBusyboxRootfs makes a tiny image from Debian's static busybox (package busybox-static).
func buildBusyboxRootfs(root string) error {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		fmt.Fprintln(os.Stderr, "/bin/busybox is missing: installing Debian's busybox-static (apt-get install -y busybox-static)")
		if out, err := exec.Command("apt-get", "install", "-y", "busybox-static").CombinedOutput(); err != nil {
			_ = exec.Command("apt-get", "update").Run()
			if out2, err := exec.Command("apt-get", "install", "-y", "busybox-static").CombinedOutput(); err != nil {
				return fmt.Errorf("apt-get install -y busybox-static: %v\n%s\n%s", err, out, out2)
			}
		}
	}
	if isDynamicELF("/bin/busybox") {
		return fmt.Errorf("/bin/busybox is dynamically linked: install Debian's busybox-static")
	}
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev", "root", "home/app", "data", "var/empty"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := copyFile("/bin/busybox", filepath.Join(root, "bin/busybox"), 0o755); err != nil {
		return err
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return err
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" || strings.ContainsAny(applet, "/[") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n",
		"data/seed":  "from the image\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Chown(filepath.Join(root, "home/app"), 1000, 1000); err != nil {
		return err
	}
	// Spec.Init runs this test binary inside the container. When it is dynamically linked
	// (plain "go test"), give the rootfs its loader and libraries; a static shoald needs none.
	return copyDynamicLibs(root)
}

func copyDynamicLibs(root string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	out, err := exec.Command("ldd", exe).Output()
	if err != nil {
		return nil // "not a dynamic executable"
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		for _, f := range strings.Fields(sc.Text()) {
			if !strings.HasPrefix(f, "/") {
				continue
			}
			dst := filepath.Join(root, f)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			real, err := filepath.EvalSymlinks(f)
			if err != nil {
				return err
			}
			if err := copyFile(real, dst, 0o755); err != nil && !os.IsExist(err) {
				return err
			}
		}
	}
	return nil
}

// testEnv is one test's Runtime on its own directories and cgroup parent.
type testEnv struct {
	t        *testing.T
	r        *Runtime
	execRoot string
	dataRoot string
	cgParent string
	events   chan Event
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	base := t.TempDir()
	e := &testEnv{
		t:        t,
		execRoot: filepath.Join(base, "exec"),
		dataRoot: filepath.Join(base, "data"),
		cgParent: "shoal-test-" + randomHex(4),
		events:   make(chan Event, 1000),
	}
	e.r = e.open()
	t.Cleanup(e.cleanup)
	return e
}

func (e *testEnv) open() *Runtime {
	e.t.Helper()
	r, err := New(Options{
		ExecRoot:     e.execRoot,
		DataRoot:     e.dataRoot,
		CgroupParent: e.cgParent,
		OnEvent: func(ev Event) {
			select {
			case e.events <- ev:
			default:
			}
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// cleanup removes every container and the cgroup parent, even after a failed test.
func (e *testEnv) cleanup() {
	if e.r != nil {
		for _, c := range e.r.List() {
			if err := e.r.Delete(c.ID); err != nil {
				e.t.Errorf("cleanup: delete %s: %v", c.ID, err)
			}
		}
		e.r.Close()
	}
	_ = unmountAll(e.dataRoot)
	for _, p := range cgroupDirs(e.cgParent) {
		_ = os.Remove(p)
	}
}

// cgroupDirs lists the directories of cgroup path rel in every mounted hierarchy.
func cgroupDirs(rel string) []string {
	var out []string
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	for _, en := range entries {
		p := filepath.Join("/sys/fs/cgroup", en.Name(), rel)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", rel)); err == nil {
		out = append(out, filepath.Join("/sys/fs/cgroup", rel))
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// spec returns a minimal Spec running cmd in the busybox rootfs.
func testSpec(cmd ...string) Spec {
	id := randomHex(32)
	return Spec{
		ID:        id,
		Name:      "svc.1." + id[:12],
		Cmd:       cmd,
		LowerDirs: []string{testRootfs},
	}
}

// run creates and starts a container.
func (e *testEnv) run(s Spec) *Container {
	e.t.Helper()
	ctx := testCtx(e.t)
	c, err := e.r.Create(ctx, s)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	if err := e.r.Start(ctx, c.ID); err != nil {
		e.t.Fatalf("start: %v", err)
	}
	return c
}

// wait waits for a container's exit with a deadline.
func (e *testEnv) wait(id string) (int, bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, oom, err := e.r.Wait(ctx, id)
	if err != nil {
		e.t.Fatalf("wait: %v", err)
	}
	return code, oom
}

// output returns the container's whole log, stdout and stderr, in order.
func (e *testEnv) output(id string) string {
	e.t.Helper()
	ch, err := e.r.Logs(testCtx(e.t), id, LogOptions{Stdout: true, Stderr: true, Tail: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for m := range ch {
		b.Write(m.Line)
	}
	return b.String()
}

// runToExit runs a container to its end and returns its exit code and output.
func (e *testEnv) runToExit(s Spec) (int, string) {
	e.t.Helper()
	c := e.run(s)
	code, _ := e.wait(c.ID)
	return code, e.output(c.ID)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
