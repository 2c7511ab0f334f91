package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-project/shoal/openapi"
)

// echoServer listens on h.Addr inside h's namespace and answers every
// connection with the source address it came from. It returns the
// listener's address.
func echoServer(t *testing.T, h *Host) string {
	t.Helper()
	l, err := h.Listen("tcp", h.Addr+":0")
	if err != nil {
		t.Fatalf("listen in %s: %v", h.Name, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, c.RemoteAddr().(*net.TCPAddr).IP)
			c.Close()
		}
	}()
	return l.Addr().String()
}

// ask connects from h to addr within timeout and returns the source
// address the echo server saw, and how long the connection took.
func ask(h *Host, addr string, timeout time.Duration) (string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	c, err := h.Dial(ctx, "tcp", addr)
	took := time.Since(start)
	if err != nil {
		return "", took, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), took, err
}

// reaches fails the test unless from reaches to's echo server and is seen
// there with its own address.
func reaches(t *testing.T, from, to *Host, addrs map[*Host]string) {
	t.Helper()
	seen, _, err := ask(from, addrs[to], 5*time.Second)
	if err != nil {
		t.Fatalf("%s -> %s (%s): %v", from.Name, to.Name, addrs[to], err)
	}
	if seen != from.Addr {
		t.Fatalf("%s -> %s: seen from %q, want %s", from.Name, to.Name, seen, from.Addr)
	}
}

// blocked fails the test unless a connection from from to to's echo server
// times out: packets are dropped, not refused.
func blocked(t *testing.T, from, to *Host, addrs map[*Host]string) {
	t.Helper()
	_, took, err := ask(from, addrs[to], time.Second)
	if err == nil {
		t.Fatalf("%s -> %s: connected, want it cut off", from.Name, to.Name)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s -> %s: %v after %v, want a timeout (dropped packets)", from.Name, to.Name, err, took)
	}
}

// pingSocket asks the daemon's own socket for /_ping within timeout.
func pingSocket(d *Daemon, timeout time.Duration) error {
	c := &http.Client{Transport: openapi.UnixTransport(d.Socket), Timeout: timeout}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://docker/_ping")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/_ping: %d", resp.StatusCode)
	}
	return nil
}

func netnsOf(t *testing.T, pid int) string {
	t.Helper()
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func TestClusterHostsAndNetwork(t *testing.T) {
	c := NewCluster(t, 3, ClusterOptions{})
	if len(c.Hosts) != 3 {
		t.Fatalf("%d hosts", len(c.Hosts))
	}
	addrs := map[*Host]string{}
	seenNS := map[string]bool{}
	for i, h := range c.Hosts {
		if want := "host" + strconv.Itoa(i+1); h.Name != want || h.Addr != "198.18.0."+strconv.Itoa(i+1) {
			t.Errorf("host %d: %s at %s", i, h.Name, h.Addr)
		}
		// Its own hostname, namespace, socket and data root.
		if got, _ := os.ReadFile(filepath.Join(h.Daemon.DataRoot, "hostname")); string(got) != h.Name {
			t.Errorf("%s: daemon hostname %q", h.Name, got)
		}
		ino, err := netnsInode(h.NetNS)
		if err != nil {
			t.Fatal(err)
		}
		if ns := netnsOf(t, h.Daemon.Pid()); ns != fmt.Sprintf("net:[%d]", ino) || seenNS[ns] {
			t.Errorf("%s: daemon in netns %s, want its own %s (%d)", h.Name, ns, h.NetNS, ino)
		} else {
			seenNS[ns] = true
		}
		if got := h.MustDocker(t, "version", "--format", "{{.Server.APIVersion}}"); got != "1.51" {
			t.Errorf("%s: server API version %q", h.Name, got)
		}
		// One route: the cluster subnet on eth0. Nothing off the machine.
		out, err := h.Command("ip", "-4", "route", "show").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: ip route: %v %s", h.Name, err, out)
		}
		if routes := strings.TrimSpace(string(out)); !strings.HasPrefix(routes, "198.18.0.0/24 dev eth0 ") || strings.Contains(routes, "\n") {
			t.Errorf("%s: routes:\n%s", h.Name, routes)
		}
		addrs[h] = echoServer(t, h)
	}
	if mine := netnsOf(t, os.Getpid()); seenNS[mine] {
		t.Errorf("a daemon runs in the test's own namespace %s", mine)
	}

	// Every host reaches every other, seen with its own address.
	for _, from := range c.Hosts {
		for _, to := range c.Hosts {
			reaches(t, from, to, addrs)
		}
		// TEST-NET-2 is never routed: no route, refused on the spot.
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := from.Dial(ctx, "tcp", "198.51.100.1:80")
		cancel()
		if !errors.Is(err, syscall.ENETUNREACH) || time.Since(start) > time.Second {
			t.Errorf("%s -> 198.51.100.1: %v after %v, want network is unreachable at once", from.Name, err, time.Since(start))
		}
	}

	h1, h2, h3 := c.Hosts[0], c.Hosts[1], c.Hosts[2]

	// Cut drops everything to and from the host; Heal restores it.
	h2.Cut()
	blocked(t, h1, h2, addrs)
	blocked(t, h2, h3, addrs)
	reaches(t, h1, h3, addrs)
	reaches(t, h2, h2, addrs) // its own address stays local
	if err := pingSocket(h2.Daemon, 5*time.Second); err != nil {
		t.Errorf("cut host's API socket: %v", err)
	}
	h2.Heal()
	reaches(t, h1, h2, addrs)
	reaches(t, h2, h3, addrs)

	// Partition splits groups; HealAll joins them again.
	c.Partition([]*Host{h1}, []*Host{h2, h3})
	blocked(t, h1, h2, addrs)
	blocked(t, h3, h1, addrs)
	reaches(t, h2, h3, addrs)
	h3.Cut()
	c.HealAll()
	reaches(t, h1, h2, addrs)
	reaches(t, h3, h1, addrs)

	// Freeze stops the daemon: its socket accepts but nothing answers.
	pid := h3.Daemon.Pid()
	h3.Freeze()
	if st := procState(pid); st != 'T' || !h3.Frozen() {
		t.Errorf("frozen daemon in state %q", st)
	}
	if err := pingSocket(h3.Daemon, 500*time.Millisecond); err == nil {
		t.Errorf("frozen daemon answered /_ping")
	}
	h3.Thaw()
	if err := pingSocket(h3.Daemon, 5*time.Second); err != nil {
		t.Errorf("thawed daemon: %v", err)
	}

	// Kill and Start: a new daemon in the same namespace, same hostname.
	h3.Freeze()
	h3.Kill()
	if h3.Daemon.Running() || procState(pid) != 0 {
		t.Fatalf("daemon alive after Kill")
	}
	h3.Start()
	if h3.Daemon.Pid() == pid {
		t.Errorf("restarted daemon has the old pid %d", pid)
	}
	if ns, _ := netnsInode(h3.NetNS); netnsOf(t, h3.Daemon.Pid()) != fmt.Sprintf("net:[%d]", ns) {
		t.Errorf("restarted daemon outside its namespace")
	}
	h3.Restart()
	if got := h3.MustDocker(t, "version", "--format", "{{.Server.APIVersion}}"); got != "1.51" {
		t.Errorf("after restart: %q", got)
	}
}

func TestClusterSlow(t *testing.T) {
	c := NewCluster(t, 2, ClusterOptions{})
	h1, h2 := c.Hosts[0], c.Hosts[1]
	addrs := map[*Host]string{h1: echoServer(t, h1), h2: echoServer(t, h2)}
	fastest := func(n int) time.Duration {
		t.Helper()
		best := time.Hour
		for range n {
			_, took, err := ask(h1, addrs[h2], 10*time.Second)
			if err != nil {
				t.Fatalf("%s -> %s: %v", h1.Name, h2.Name, err)
			}
			best = min(best, took)
		}
		return best
	}
	const delay = 100 * time.Millisecond
	if base := fastest(5); base >= delay {
		t.Fatalf("connect takes %v before Slow", base)
	}
	if err := h2.Slow(delay, 0); err != nil {
		t.Skipf("no way to slow links here: %v", err)
	}
	t.Logf("slowed with %s", h2.SlowMethod())
	// A connect is one round trip: the SYN in, the SYN-ACK out.
	if slow := fastest(3); slow < 2*delay || slow > 2*delay+2*time.Second {
		t.Errorf("connect takes %v with %v each way, want about %v", slow, delay, 2*delay)
	}
	reaches(t, h1, h2, addrs)
	if err := h2.Slow(0, 100); err != nil {
		t.Fatal(err)
	}
	blocked(t, h1, h2, addrs)
	h2.Unslow()
	if h2.SlowMethod() != "" {
		t.Errorf("SlowMethod %q after Unslow", h2.SlowMethod())
	}
	if fast := fastest(5); fast >= delay {
		t.Errorf("connect takes %v after Unslow", fast)
	}
	// Left slow on purpose: cleanup must undo it.
	if err := h1.Slow(10*time.Millisecond, 1); err != nil {
		t.Fatal(err)
	}
}

// rootLinks lists the links of the test's own namespace.
func rootLinks(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			names = append(names, strings.TrimSuffix(f[1], ":"))
		}
	}
	slices.Sort(names)
	return names
}

func TestClusterCleanup(t *testing.T) {
	linksBefore := rootLinks(t)
	var c *Cluster
	var pids []int
	t.Run("cluster", func(t *testing.T) {
		c = NewCluster(t, 2, ClusterOptions{Name: "cleanup-test"})
		for _, h := range c.Hosts {
			pids = append(pids, h.Daemon.Pid(), readPid(t, filepath.Join(h.Daemon.DataRoot, "child.pid")))
		}
		// A process started in a host and forgotten, and a frozen, cut,
		// slowed host: cleanup copes with all.
		sleeper := c.Hosts[0].Command("/bin/busybox", "sleep", "3600")
		if err := sleeper.Start(); err != nil {
			t.Fatal(err)
		}
		go sleeper.Wait()
		pids = append(pids, sleeper.Process.Pid)
		c.Hosts[1].Cut()
		c.Hosts[1].Freeze()
		if err := c.Hosts[0].Slow(5*time.Millisecond, 0); err != nil {
			t.Logf("no Slow here: %v", err)
		}
		if got := listNetNS("shc-cleanup-test-"); len(got) != 3 {
			t.Errorf("namespaces %v, want 2 hosts and the bridge", got)
		}
	})
	if c == nil {
		t.Fatal("no cluster")
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "shc-cleanup-test-") {
		t.Errorf("namespaces survive cleanup:\n%s", out)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("cluster dir %s survives: %v", c.Dir, err)
	}
	for _, pid := range pids {
		if st := procState(pid); st != 0 && st != 'Z' {
			t.Errorf("process %d survives cleanup (state %c)", pid, st)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if after := rootLinks(t); !slices.Equal(after, linksBefore) {
		t.Errorf("links of the test's namespace changed:\nbefore %v\nafter  %v", linksBefore, after)
	}
}

func TestClusterRemovesLeftovers(t *testing.T) {
	const name = "leftover-test"
	// What a crashed run leaves: its namespaces with a process inside,
	// and its directory with a mount.
	for _, ns := range []string{"shc-" + name + "-host1", "shc-" + name + "-br"} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	stale := exec.Command("nsenter", "--net=/run/netns/shc-"+name+"-host1", "--", "/bin/busybox", "sleep", "3600")
	if err := stale.Start(); err != nil {
		t.Fatal(err)
	}
	go stale.Wait()
	t.Cleanup(func() { // if the test stops before the cluster takes them over
		stale.Process.Kill()
		for _, ns := range []string{"shc-" + name + "-host1", "shc-" + name + "-br"} {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	// wait until nsenter has entered the namespace and exec'd busybox, so the stale process is
	// really inside it when the cluster starts
	inside := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", stale.Process.Pid)); strings.TrimSpace(string(comm)) == "busybox" {
			inside = true
			break
		}
	}
	if !inside {
		t.Fatal("the stale process never started sleeping in its namespace")
	}
	dir := filepath.Join(os.TempDir(), "shc-"+name)
	if err := os.MkdirAll(filepath.Join(dir, "old", "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", filepath.Join(dir, "old", "mnt"), "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}

	c := NewCluster(t, 1, ClusterOptions{Name: name})
	if st := procState(stale.Process.Pid); st != 0 && st != 'Z' {
		t.Errorf("stale process in a leftover namespace survives (state %c)", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "old")); !os.IsNotExist(err) {
		t.Errorf("leftover directory survives: %v", err)
	}
	if m := mountsUnder(filepath.Join(dir, "old")); len(m) != 0 {
		t.Errorf("leftover mounts survive: %v", m)
	}
	addrs := map[*Host]string{c.Hosts[0]: echoServer(t, c.Hosts[0])}
	reaches(t, c.Hosts[0], c.Hosts[0], addrs)

	// The name is taken while the cluster lives.
	rt := &recordingTB{TB: t}
	rt.run(func(tb testing.TB) { NewCluster(tb, 1, ClusterOptions{Name: name}) })
	rt.runCleanups()
	if len(rt.failures) != 1 || !strings.Contains(rt.failures[0], "fatal") {
		t.Errorf("second cluster of one name: failures %q", rt.failures)
	}
	if got := listNetNS("shc-" + name + "-"); len(got) != 2 {
		t.Errorf("the failed second cluster touched the first: namespaces %v", got)
	}
	reaches(t, c.Hosts[0], c.Hosts[0], addrs)
}

func TestClusterRegistryHost(t *testing.T) {
	c := NewCluster(t, 2, ClusterOptions{Registry: true})
	if c.Registry == nil || c.Registry.Addr != "198.18.0.254:5000" {
		t.Fatalf("registry %+v", c.Registry)
	}
	images := PushImages(t, c.Registry)
	if images["busybox:1"] != "198.18.0.254:5000/busybox:1" {
		t.Errorf("images: %v", images)
	}
	for _, h := range c.Hosts {
		if got, _ := os.ReadFile(filepath.Join(h.Daemon.DataRoot, "insecure-registries")); string(got) != c.Registry.Addr {
			t.Errorf("%s: daemon flags --insecure-registry %q", h.Name, got)
		}
		// A host pulls from the registry host over the bridge.
		tr := &http.Transport{DialContext: h.Dial}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := client.Get("http://" + c.Registry.Addr + "/v2/busybox/tags/list")
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"1"`) {
			t.Errorf("%s: tags/list: %d %s", h.Name, resp.StatusCode, body)
		}
	}
}

// TestClusterRealShoald is a smoke test of the real daemon on two hosts,
// when SHOALD_BIN names one.
func TestClusterRealShoald(t *testing.T) {
	if realShoald == "" {
		t.Skip("SHOALD_BIN not set")
	}
	c := NewCluster(t, 2, ClusterOptions{Daemon: Options{Binary: realShoald}})
	for _, h := range c.Hosts {
		if got := h.MustDocker(t, "version", "--format", "{{.Server.Os}}"); got != "linux" {
			t.Errorf("%s: server OS %q", h.Name, got)
		}
		if got := h.MustDocker(t, "info", "--format", "{{.Name}}"); got != h.Name {
			t.Errorf("%s: docker info names the node %q", h.Name, got)
		}
	}
}
