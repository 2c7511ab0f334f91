package bench

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// engine is a daemon the benchmark drives with the stock CLI.
type engine struct {
	name   string
	docker func(t *testing.T, args ...string) string
	// rss is the resident memory of the engine's own processes (daemon, containerd, shims), not of
	// the containers.
	rss func() int64
}

func TestRuntimeBenchmark(t *testing.T) {
	if os.Getenv("SHOAL_BENCH") == "" {
		t.Skip("set SHOAL_BENCH=1 (make bench-runtime) to run the runtime benchmark")
	}
	d := harness.StartDaemon(t, harness.Options{SkipContract: true})
	reg := harness.StartRegistry(t)
	imgs := harness.PushImages(t, reg)
	d.MustDocker(t, "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", harness.FreeLoopbackAddr(t))
	shoal := engine{name: "shoald", docker: func(t *testing.T, args ...string) string { return d.MustDocker(t, args...) },
		rss: func() int64 { return rssOf(d.Pid()) }}
	engines := []engine{shoal}
	if e, ok := startDockerd(t, imgs["sleeper:1"]); ok {
		engines = append(engines, e)
	}
	image := imgs["sleeper:1"]
	// pull once so that the figures measure containers, not the registry
	shoal.docker(t, "service", "create", "-d", "--name", "warm", image)
	waitReplicas(t, shoal, "warm", 1)
	shoal.docker(t, "service", "rm", "warm")

	results := map[string]map[int]time.Duration{}
	memory := map[string]int64{}
	sizes := []int{1, 10, 50}
	for _, e := range engines {
		results[e.name] = map[int]time.Duration{}
		for _, n := range sizes {
			name := fmt.Sprintf("bench%d", n)
			start := time.Now()
			e.docker(t, "service", "create", "-d", "--name", name, "--replicas", fmt.Sprint(n), image)
			waitReplicas(t, e, name, n)
			results[e.name][n] = time.Since(start)
			if n == sizes[len(sizes)-1] {
				memory[e.name] = e.rss()
			}
			e.docker(t, "service", "rm", name)
			waitGone(t, e, name)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-10s %8s %14s %18s\n", "engine", "replicas", "to running", "per container")
	for _, e := range engines {
		for _, n := range sizes {
			d := results[e.name][n]
			fmt.Fprintf(&b, "%-10s %8d %14s %18s\n", e.name, n, d.Round(time.Millisecond), (d / time.Duration(n)).Round(time.Millisecond))
		}
	}
	for _, e := range engines {
		fmt.Fprintf(&b, "%s engine memory with %d containers running: %d MiB\n", e.name, sizes[len(sizes)-1], memory[e.name]>>20)
	}
	if len(engines) == 2 {
		for _, n := range sizes {
			fmt.Fprintf(&b, "ratio dockerd/shoald at %d replicas: %.2f\n", n, float64(results["dockerd"][n])/float64(results["shoald"][n]))
		}
	} else {
		fmt.Fprintf(&b, "(no dockerd on this machine: apt-get install docker.io to compare)\n")
	}
	t.Log(b.String())
	fmt.Println(b.String())
}

func waitReplicas(t *testing.T, e engine, name string, n int) {
	t.Helper()
	harness.Eventually(t, 5*time.Minute, func() (bool, string) {
		out := e.docker(t, "service", "ls", "--filter", "name="+name, "--format", "{{.Name}} {{.Replicas}}")
		for _, l := range strings.Split(out, "\n") {
			if l == fmt.Sprintf("%s %d/%d", name, n, n) {
				return true, out
			}
		}
		return false, out
	})
}

func waitGone(t *testing.T, e engine, name string) {
	t.Helper()
	harness.Eventually(t, 2*time.Minute, func() (bool, string) {
		out := e.docker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name="+name)
		return strings.TrimSpace(out) == "", out
	})
}

// startDockerd runs Debian's dockerd beside shoald, on its own socket and data root, when it is
// installed, and loads the benchmark image into it (it has no registry access of its own).
func startDockerd(t *testing.T, image string) (engine, bool) {
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		return engine{}, false
	}
	dir := t.TempDir()
	sock := dir + "/docker.sock"
	cmd := exec.Command(bin, "-H", "unix://"+sock, "--data-root", dir+"/data", "--exec-root", dir+"/exec",
		"--pidfile", dir+"/docker.pid", "--bridge", "none", "--iptables=false", "--insecure-registry", strings.Split(image, "/")[0])
	logf, _ := os.Create(dir + "/dockerd.log")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Logf("dockerd did not start: %v", err)
		return engine{}, false
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
		removeDockerdLeftovers(t)
	})
	run := func(t *testing.T, args ...string) string {
		c := exec.Command("docker", args...)
		c.Env = append(os.Environ(), "DOCKER_HOST=unix://"+sock)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("dockerd: docker %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	ok := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		c := exec.Command("docker", "version")
		c.Env = append(os.Environ(), "DOCKER_HOST=unix://"+sock)
		if c.Run() == nil {
			ok = true
			break
		}
	}
	if !ok {
		b, _ := os.ReadFile(dir + "/dockerd.log")
		t.Logf("dockerd did not answer; its log:\n%s", b)
		return engine{}, false
	}
	run(t, "swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", harness.FreeLoopbackAddr(t))
	run(t, "pull", image)
	return engine{name: "dockerd", docker: run, rss: func() int64 {
		// dockerd, its containerd and one containerd-shim per container
		total := rssOf(cmd.Process.Pid)
		for _, p := range descendants(cmd.Process.Pid) {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); strings.HasPrefix(string(comm), "containerd") {
				total += rssOf(p)
			}
		}
		return total
	}}, true
}

// rssOf is a process's resident set size in bytes (0 if it is gone).
func rssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

// descendants lists every process below pid (by walking /proc parent links).
func descendants(pid int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var p int
		if _, err := fmt.Sscan(e.Name(), &p); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		var state string
		var ppid int
		fmt.Sscan(s[i+1:], &state, &ppid)
		parent[p] = ppid
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// removeDockerdLeftovers removes what dockerd's swarm mode leaves on the machine after it stops:
// its gateway bridge and the rules its overlay driver adds for VXLAN (udp dport 4789) to
// iptables' INPUT and OUTPUT chains.
func removeDockerdLeftovers(t *testing.T) {
	if exec.Command("ip", "link", "show", "docker_gwbridge").Run() == nil {
		if out, err := exec.Command("ip", "link", "del", "docker_gwbridge").CombinedOutput(); err != nil {
			t.Errorf("removing docker_gwbridge: %v: %s", err, out)
		}
	}
	for _, chain := range [][2]string{{"filter", "INPUT"}, {"mangle", "OUTPUT"}} {
		out, err := exec.Command("nft", "-a", "list", "chain", "ip", chain[0], chain[1]).Output()
		if err != nil {
			continue // no such chain
		}
		for _, line := range strings.Split(string(out), "\n") {
			_, handle, ok := strings.Cut(line, "# handle ")
			if !ok || !strings.Contains(line, "dport 4789") {
				continue
			}
			if out, err := exec.Command("nft", "delete", "rule", "ip", chain[0], chain[1], "handle", strings.TrimSpace(handle)).CombinedOutput(); err != nil {
				t.Errorf("removing dockerd's rule %q: %v: %s", line, err, out)
			}
		}
	}
}
