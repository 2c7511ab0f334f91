package container

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/moby/sys/mountinfo"
)

func TestEnvArgsWorkdirUser(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("-c", `echo "foo=$FOO arg=$1"; pwd; id -u; id -g; id -G; echo "home=$HOME host=$HOSTNAME"; echo "path=$PATH"`, "zero", "first")
	s.Entrypoint = []string{"/bin/sh"}
	s.Env = []string{"FOO=bar"}
	s.WorkingDir = "/srv/app"
	s.User = "app"
	s.Groups = []string{"3000"}
	s.Hostname = "worker"
	code, out := e.runToExit(s)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	groups := strings.Fields(lines[4])
	sort.Strings(groups)
	want := []string{"foo=bar arg=first", "/srv/app", "1000", "1000", "", "home=/home/app host=worker", "path=" + defaultPath}
	if len(lines) != len(want) {
		t.Fatalf("output = %q", out)
	}
	for i, w := range want {
		if i != 4 && lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
	if strings.Join(groups, " ") != "1000 2000 3000" {
		t.Errorf("groups = %v, want 1000 2000 3000", groups)
	}
}

func TestNumericUserAndUnknownUser(t *testing.T) {
	e := newTestEnv(t)
	// Another user than root reads the container's files, as with Docker (its / is 0755).
	s := testSpec("sh", "-c", "id -u; id -g; id -G; stat -c %a /; cat /etc/hostname >/dev/null && ls / >/dev/null && echo readable")
	s.User = "4242:4343"
	if code, out := e.runToExit(s); code != 0 || out != "4242\n4343\n4343\n755\nreadable\n" {
		t.Fatalf("exit %d output %q", code, out)
	}
	bad := testSpec("true")
	bad.User = "nosuchuser"
	if _, err := e.r.Create(testCtx(t), bad); err == nil || err.Error() != "unable to find user nosuchuser: no matching entries in passwd file" {
		t.Fatalf("create with unknown user: %v", err)
	}
}

func TestHostnameHostsResolvConf(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("sh", "-c", "hostname; cat /etc/hostname; cat /etc/hosts; cat /etc/resolv.conf")
	s.Hostname = "web-1"
	s.Hosts = []string{"198.18.0.7 db db.local", "cache:198.18.0.8"}
	s.DNS = swarm.DNSConfig{Nameservers: []string{"198.18.0.53"}, Search: []string{"example.test"}, Options: []string{"ndots:2"}}
	code, out := e.runToExit(s)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{
		"web-1\nweb-1\n",
		"127.0.0.1\tlocalhost\n",
		"198.18.0.7\tdb db.local\n",
		"198.18.0.8\tcache\n",
		"nameserver 198.18.0.53\nsearch example.test\noptions ndots:2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	c, _ := e.r.Get(s.ID)
	if b, err := os.ReadFile(c.HostsPath); err != nil || !strings.Contains(string(b), "198.18.0.7\tdb db.local") {
		t.Errorf("hosts file %s: %q %v", c.HostsPath, b, err)
	}
}

func TestNetworkNamespaceHasOnlyLoopback(t *testing.T) {
	e := newTestEnv(t)
	code, out := e.runToExit(testSpec("sh", "-c", "ls /sys/class/net; ip -o link show lo"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.HasPrefix(out, "lo\n") || !strings.Contains(out, "UP") {
		t.Fatalf("interfaces: %q", out)
	}
}

func TestCapabilitiesAndSeccomp(t *testing.T) {
	e := newTestEnv(t)
	code, out := e.runToExit(testSpec("sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	// Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
	// NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
	if !strings.Contains(out, "CapEff:\t00000000a80425fb") {
		t.Errorf("default capabilities: %q", out)
	}
	wantSeccomp := "Seccomp:\t0"
	if SeccompEnabled {
		wantSeccomp = "Seccomp:\t2"
	}
	if !strings.Contains(out, wantSeccomp) {
		t.Errorf("seccomp (enabled in this build: %v): %q", SeccompEnabled, out)
	}

	s := testSpec("sh", "-c", "grep CapEff /proc/self/status")
	s.CapabilityDrop = []string{"ALL"}
	s.CapabilityAdd = []string{"net_admin", "CAP_KILL"}
	// CAP_KILL = 5, CAP_NET_ADMIN = 12
	if code, out := e.runToExit(s); code != 0 || !strings.Contains(out, "CapEff:\t0000000000001020") {
		t.Errorf("cap_drop ALL + add: exit %d %q", code, out)
	}
}

func TestResourceLimitsAndOOM(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; tail /dev/zero")
	s.Resources = Resources{MemoryBytes: 64 << 20, NanoCPUs: 1500000000, PidsLimit: 50}
	c := e.run(s)
	read := func(ctrl, file string) string {
		b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, e.cgParent, c.ID, file))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := read("memory", "memory.limit_in_bytes"); got != "67108864" {
		t.Errorf("memory.limit_in_bytes = %s", got)
	}
	if got := read("cpu", "cpu.cfs_quota_us"); got != "150000" {
		t.Errorf("cpu.cfs_quota_us = %s", got)
	}
	if got := read("pids", "pids.max"); got != "50" {
		t.Errorf("pids.max = %s", got)
	}
	st, err := e.r.Stats(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.MemoryStats.Limit != 64<<20 || st.PidsStats.Limit != 50 || st.PidsStats.Current == 0 || st.CPUStats.CPUUsage.TotalUsage == 0 || st.ID != c.ID {
		t.Errorf("stats = %+v", st)
	}
	if code, err := e.r.Exec(testCtx(t), c.ID, ExecSpec{Cmd: []string{"touch", "/tmp/go"}}, nil, nil, nil, nil); err != nil || code != 0 {
		t.Fatalf("exec touch: %d %v", code, err)
	}
	code, oom := e.wait(c.ID)
	if !oom || code != 137 {
		t.Fatalf("exit %d oomKilled %v, want 137 true", code, oom)
	}
	if got, _ := e.r.Get(c.ID); !got.State.OOMKilled {
		t.Fatalf("state: %+v", got.State)
	}
	if !sawEvent(e, c.ID, "oom") {
		t.Error("no oom event")
	}
}

func sawEvent(e *testEnv, id, action string) bool {
	for {
		select {
		case ev := <-e.events:
			if ev.ID == id && ev.Action == action {
				return true
			}
		default:
			return false
		}
	}
}

func TestKillWithSignal(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sh", "-c", `trap "exit 42" USR1; echo ready; while true; do sleep 0.05; done`))
	eventually(t, 10*time.Second, "ready", func() bool { return strings.Contains(e.output(c.ID), "ready") })
	if err := e.r.Kill(c.ID, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.wait(c.ID); code != 42 {
		t.Fatalf("exit %d, want 42", code)
	}
	if err := e.r.Kill(c.ID, syscall.SIGUSR1); err == nil || !strings.Contains(err.Error(), "is not running") {
		t.Fatalf("kill of an exited container: %v", err)
	}

	c2 := e.run(testSpec("sleep", "1000"))
	if err := e.r.Kill(c2.ID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.wait(c2.ID); code != 137 {
		t.Fatalf("exit %d, want 137", code)
	}
}

func TestStopGraceThenKill(t *testing.T) {
	e := newTestEnv(t)
	// sleep as PID 1 has no handler for SIGTERM, so the kernel ignores it: only SIGKILL works.
	c := e.run(testSpec("sleep", "1000"))
	start := time.Now()
	if err := e.r.Stop(testCtx(t), c.ID, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("stopped after %v, before the grace period", d)
	}
	if got, _ := e.r.Get(c.ID); got.State.Status != StatusExited || got.State.ExitCode != 137 {
		t.Fatalf("state %+v", got.State)
	}

	// With the init, SIGTERM reaches sleep, which dies of it at once: 128+15.
	s := testSpec("sleep", "1000")
	s.Init = true
	s.StopSignal = "TERM"
	c2 := e.run(s)
	start = time.Now()
	if err := e.r.Stop(testCtx(t), c2.ID, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("stop took %v: the init did not forward SIGTERM", d)
	}
	if got, _ := e.r.Get(c2.ID); got.State.ExitCode != 143 {
		t.Fatalf("state %+v, output %q", got.State, e.output(c2.ID))
	}
}

func TestInitReapsZombies(t *testing.T) {
	e := newTestEnv(t)
	// The orphaned background sleeps become children of PID 1, which must reap them.
	s := testSpec("sh", "-c", "sh -c 'sleep 0.1 & sleep 0.1 & exit 0'; sleep 0.5; ps -o pid,stat,comm; exit 7")
	s.Init = true
	code, out := e.runToExit(s)
	if code != 7 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if strings.Contains(out, " Z ") {
		t.Fatalf("zombies left:\n%s", out)
	}
	if !strings.Contains(out, "docker-init") {
		t.Fatalf("PID 1 is not the init:\n%s", out)
	}
}

func TestReadOnlyRootfsAndMounts(t *testing.T) {
	e := newTestEnv(t)
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "f"), []byte("host file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := testSpec("sh", "-c", `cat /host/f; touch /host/g 2>/dev/null && echo bind-rw; touch /x 2>/dev/null && echo root-rw;
cat /data/seed; echo written > /data/new; echo t > /scratch/t && echo tmpfs-rw; grep ' /scratch ' /proc/mounts`)
	s.ReadOnly = true
	s.Mounts = []mount.Mount{
		{Type: mount.TypeBind, Source: hostDir, Target: "/host", ReadOnly: true},
		{Type: mount.TypeVolume, Source: "vol1", Target: "/data"},
		{Type: mount.TypeTmpfs, Target: "/scratch", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o750}},
	}
	code, out := e.runToExit(s)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"host file\n", "from the image\n", "tmpfs-rw\n", "size=1024k", "mode=750"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, notWant := range []string{"bind-rw", "root-rw"} {
		if strings.Contains(out, notWant) {
			t.Errorf("%s: read-only mount was writable:\n%s", notWant, out)
		}
	}
	// The named volume keeps what the first container wrote.
	s2 := testSpec("cat", "/data/new", "/data/seed")
	s2.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: "vol1", Target: "/data"}}
	if code, out := e.runToExit(s2); code != 0 || out != "written\nfrom the image\n" {
		t.Fatalf("second container: exit %d %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(e.dataRoot, "volumes", "vol1", "_data", "new")); err != nil {
		t.Fatal(err)
	}
}

func TestHealthcheck(t *testing.T) {
	e := newTestEnv(t)
	healthy := testSpec("sleep", "1000")
	healthy.Healthcheck = &containertypes.HealthConfig{Test: []string{"CMD-SHELL", "echo ok; exit 0"}, Interval: 100 * time.Millisecond, Timeout: 5 * time.Second}
	unhealthy := testSpec("sleep", "1000")
	unhealthy.Healthcheck = &containertypes.HealthConfig{Test: []string{"CMD", "sh", "-c", "echo bad >&2; exit 1"}, Interval: 100 * time.Millisecond, Retries: 2}
	ch := e.run(healthy)
	cu := e.run(unhealthy)
	if got, _ := e.r.Get(ch.ID); got.State.Health == nil || got.State.Health.Status != containertypes.Starting && got.State.Health.Status != containertypes.Healthy {
		t.Fatalf("initial health %+v", got.State.Health)
	}
	status := func(id string) *containertypes.Health {
		got, err := e.r.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return got.State.Health
	}
	eventually(t, 20*time.Second, "healthy", func() bool { return status(ch.ID).Status == containertypes.Healthy })
	eventually(t, 20*time.Second, "unhealthy", func() bool { return status(cu.ID).Status == containertypes.Unhealthy })
	h := status(ch.ID)
	if last := h.Log[len(h.Log)-1]; last.ExitCode != 0 || last.Output != "ok\n" || last.End.Before(last.Start) {
		t.Errorf("healthy log %+v", last)
	}
	h = status(cu.ID)
	if last := h.Log[len(h.Log)-1]; h.FailingStreak < 2 || last.ExitCode != 1 || last.Output != "bad\n" {
		t.Errorf("unhealthy: streak %d, log %+v", h.FailingStreak, last)
	}
	eventually(t, 5*time.Second, "health_status events", func() bool {
		return sawHealthEvent(e, ch.ID, containertypes.Healthy)
	})
}

func sawHealthEvent(e *testEnv, id string, status containertypes.HealthStatus) bool {
	for {
		select {
		case ev := <-e.events:
			if ev.ID == id && ev.Action == "health_status" && ev.Health == status {
				return true
			}
		default:
			return false
		}
	}
}

func TestDeleteCleansUp(t *testing.T) {
	e := newTestEnv(t)
	c := e.run(testSpec("sleep", "1000"))
	cg := cgroupDirs(filepath.Join(e.cgParent, c.ID))
	if len(cg) == 0 {
		t.Fatal("no cgroup directories for the running container")
	}
	if !isMounted(t, c.RootfsPath) {
		t.Fatal("rootfs is not mounted")
	}
	if err := e.r.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if isMounted(t, c.RootfsPath) {
		t.Error("rootfs still mounted")
	}
	for _, p := range cg {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("cgroup %s still there", p)
		}
	}
	for _, p := range []string{filepath.Join(e.dataRoot, "containers", c.ID), filepath.Join(e.execRoot, "runtime", c.ID), filepath.Join(e.execRoot, "containers", c.ID)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there", p)
		}
	}
	if _, err := e.r.Get(c.ID); err == nil {
		t.Error("deleted container still listed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, _, err := e.r.Wait(ctx, c.ID); err == nil {
		t.Error("Wait on a deleted container succeeded")
	}
}

// isMounted reads the mount table of this thread's namespace (libcontainer may leave the
// main thread, and so /proc/self, in a container's mount namespace).
func isMounted(t *testing.T, path string) bool {
	ok, err := mountinfo.Mounted(path)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestTTYContainerAndRestart(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("sh", "-c", "tty; echo term=$TERM; exit 4")
	s.TTY = true
	c := e.run(s)
	if code, _ := e.wait(c.ID); code != 4 {
		t.Fatalf("exit %d", code)
	}
	out := strings.ReplaceAll(e.output(c.ID), "\r\n", "\n")
	if !strings.Contains(out, "/dev/pts/0\n") || !strings.Contains(out, "term=xterm\n") {
		t.Fatalf("tty output %q", out)
	}
	// An exited container can be started again; its log goes on.
	if err := e.r.Start(testCtx(t), c.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.wait(c.ID); code != 4 {
		t.Fatalf("second run exit %d", code)
	}
	if out := e.output(c.ID); strings.Count(out, "term=xterm") != 2 {
		t.Fatalf("log after two runs %q", out)
	}
	var actions []string
	for len(e.events) > 0 {
		if ev := <-e.events; ev.ID == c.ID {
			actions = append(actions, ev.Action)
		}
	}
	if strings.Join(actions, " ") != "create start die start die" {
		t.Fatalf("events %v", actions)
	}
}

func TestJoinNetworkNamespace(t *testing.T) {
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2)")
	}
	e := newTestEnv(t)
	ns := "shoaltest-" + randomHex(4)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	if out, err := exec.Command("ip", "-n", ns, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1").CombinedOutput(); err != nil {
		t.Fatalf("add veth pair: %v %s", err, out)
	}
	s := testSpec("ls", "/sys/class/net")
	s.NetNS = "/run/netns/" + ns
	if code, out := e.runToExit(s); code != 0 || out != "lo\nprobe0\nprobe1\n" {
		t.Fatalf("joined netns: exit %d %q", code, out)
	}
	h := testSpec("cat", "/proc/net/dev")
	h.NetNS = "host"
	hostDev, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	if code, out := e.runToExit(h); code != 0 || len(strings.Split(out, "\n")) != len(strings.Split(string(hostDev), "\n")) {
		t.Fatalf("host netns: exit %d %q, host has %q", code, out, hostDev)
	}
}

// TestDockerenv: every container has an empty /.dockerenv, root's and mode 0755, as dockerd's,
// also with a read-only root filesystem.
func TestDockerenv(t *testing.T) {
	e := newTestEnv(t)
	s := testSpec("stat", "-c", "%s %a %u", "/.dockerenv")
	s.ReadOnly = true
	if code, out := e.runToExit(s); code != 0 || out != "0 755 0\n" {
		t.Fatalf("exit %d output %q", code, out)
	}
}
