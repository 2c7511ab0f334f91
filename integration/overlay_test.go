package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestOverlayNetworking is Docker's swarm networking tutorial on three hosts: tasks of a service
// on an overlay network, one per host; from a task of another service on that network, the
// service's name resolves (embedded DNS) to its virtual IP, tasks.<name> to its tasks' addresses,
// and connections to the name are balanced over the tasks on every host (VXLAN between the hosts,
// nftables in the client's namespace); scaling down takes the gone tasks out of both. A port
// published in ingress mode answers on every host, whichever host runs the task (routing mesh).
func TestOverlayNetworking(t *testing.T) {
	c, imgs := swarmOf(t, 3, 1)
	h1 := c.Hosts[0]
	h1.MustDocker(t, "network", "create", "-d", "overlay", "appnet")
	h1.MustDocker(t, "service", "create", "-d", "--name", "bar", "--replicas", "3", "--replicas-max-per-node", "1",
		"--network", "appnet", imgs["whoami:1"])
	h1.MustDocker(t, "service", "create", "-d", "--name", "client", "--network", "appnet",
		"--constraint", "node.hostname==host1", imgs["whoami:1"])
	h1.MustDocker(t, "service", "create", "-d", "--name", "probe", "--network", "appnet",
		"--constraint", "node.hostname==host1", imgs["busybox:1"], "sleep", "100000")
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		bar, cl, pr := tasksPerNode(t, h1, "bar"), tasksPerNode(t, h1, "client"), tasksPerNode(t, h1, "probe")
		return total(bar) == 3 && len(bar) == 3 && total(cl) == 1 && total(pr) == 1, fmt.Sprint(bar, cl, pr)
	})
	client := strings.TrimSpace(h1.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name=client"))
	probe := strings.TrimSpace(h1.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name=probe"))
	if client == "" || probe == "" {
		t.Fatalf("client %q and probe %q containers on host1", client, probe)
	}
	vip := serviceVIP(t, h1, "bar", "appnet")
	taskIPs := serviceTaskIPs(t, h1, "bar", "appnet")
	if len(taskIPs) != 3 {
		t.Fatalf("bar has task addresses %v on appnet, want 3", taskIPs)
	}

	// the client's container shows its network as Docker shows it
	clientIP := strings.SplitN(serviceTaskIPs(t, h1, "client", "appnet")[0], "/", 2)[0]
	if out := h1.MustDocker(t, "inspect", "-f", `{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{$e.IPAddress}}/{{$e.IPPrefixLen}} {{$e.MacAddress}}{{end}}`, client); !strings.HasPrefix(out, "appnet "+clientIP+"/24 02:42:") {
		t.Errorf("client's NetworkSettings.Networks: %q, want appnet %s/24", out, clientIP)
	}
	if out := h1.MustDocker(t, "ps", "-f", "id="+client, "--format", "{{.Networks}}"); out != "appnet" {
		t.Errorf("docker ps NETWORKS %q, want appnet", out)
	}

	// a way out through the node's gateway bridge: the registry host is outside the swarm
	if out, stderr, code := h1.Docker(t, "exec", client, "/whoami", "get", "http://"+c.Registry.Addr+"/v2/"); code != 0 {
		t.Errorf("GET the registry from a task: exit %d: %s%s", code, out, stderr)
	}

	// docker network inspect on host1: its containers on the network, and the three hosts as peers
	clientID := strings.TrimSpace(h1.MustDocker(t, "inspect", "-f", "{{.ID}}", client))
	out := h1.MustDocker(t, "network", "inspect", "-f", `{{(index .Containers "`+clientID+`").IPv4Address}} {{len .Containers}}|{{range .Peers}}{{.IP}} {{end}}`, "appnet")
	containersPart, peersPart, _ := strings.Cut(out, "|")
	peers := strings.Fields(peersPart)
	sort.Strings(peers)
	if containersPart != clientIP+"/24 3" || strings.Join(peers, " ") != "198.18.0.1 198.18.0.2 198.18.0.3" {
		t.Errorf("network inspect appnet on host1: %q, want the client's %s/24, 3 containers (bar, client, probe) and the 3 hosts as peers", out, clientIP)
	}

	// the embedded DNS (busybox's nslookup): the name to the VIP, tasks.<name> to the tasks
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out, stderr, _ := h1.Docker(t, "exec", probe, "nslookup", "bar")
		return lookupAddrs(out)[0] == vip && len(lookupAddrs(out)) == 1, out + stderr
	})
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out, stderr, _ := h1.Docker(t, "exec", probe, "nslookup", "tasks.bar")
		got := lookupAddrs(out)
		return strings.Join(got, " ") == strings.Join(taskIPs, " "), out + stderr
	})
	if out, _, code := h1.Docker(t, "exec", probe, "cat", "/etc/resolv.conf"); code != 0 || !strings.Contains(out, "nameserver 127.0.0.11") || !strings.Contains(out, "ndots:0") {
		t.Errorf("client's resolv.conf:\n%s", out)
	}

	// connections to the name (Go's resolver in whoami) reach every task, on every host
	containers := map[string]bool{}
	for _, h := range c.Hosts {
		for _, id := range strings.Fields(h.MustDocker(t, "ps", "-q", "--filter", "label=com.docker.swarm.service.name=bar")) {
			containers[id] = true
		}
	}
	seen := func(n int) map[string]bool {
		got := map[string]bool{}
		for i := 0; i < n; i++ {
			out, stderr, code := h1.Docker(t, "exec", client, "/whoami", "get", "http://bar/")
			if code != 0 {
				t.Fatalf("GET http://bar/ from the client: exit %d: %s%s", code, out, stderr)
			}
			got[whoamiHost(out)] = true
		}
		return got
	}
	if got := seen(9); !sameKeys(got, containers) {
		t.Fatalf("connections to bar reached %v, want every task's container %v", keys(got), keys(containers))
	}

	// a rolling update, one task at a time, interrupts no connection to the service: a task leaves
	// the load balancing before its container stops
	watched := make(chan string, 1)
	go func() {
		out, stderr, _ := h1.Docker(t, "exec", client, "/whoami", "watch", "http://bar/", "20")
		watched <- out + stderr
	}()
	h1.MustDocker(t, "service", "update", "-d", "--image", imgs["whoami:2"], "--update-parallelism", "1", "--update-delay", "1s", "bar")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out := h1.MustDocker(t, "service", "ps", "bar", "--filter", "desired-state=running", "--format", "{{.Image}} {{.CurrentState}}")
		return strings.Count(out, "whoami:2 Running") == 3, out
	})
	var watch string
	select {
	case watch = <-watched:
	case <-time.After(60 * time.Second):
		t.Fatal("the watch of bar did not end")
	}
	var requests, failures int
	var versions string
	if _, err := fmt.Sscanf(watch, "requests %d failures %d versions %s", &requests, &failures, &versions); err != nil ||
		failures != 0 || requests < 100 || !strings.Contains(versions, "2") {
		t.Errorf("connections to bar during its rolling update:\n%s", watch)
	}

	// scaled down: one task left, in DNS and in the balancing
	h1.MustDocker(t, "service", "scale", "-d", "bar=1")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out, _, _ := h1.Docker(t, "exec", probe, "nslookup", "tasks.bar")
		return len(lookupAddrs(out)) == 1, out
	})
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		got := seen(4)
		return len(got) == 1, fmt.Sprint(keys(got))
	})

	// the routing mesh: a port published by a task on host3 answers on every host
	h1.MustDocker(t, "service", "create", "-d", "--name", "web", "-p", "8080:80", "--constraint", "node.hostname==host3", imgs["whoami:1"])
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		m := tasksPerNode(t, h1, "web")
		return m["host3"] == 1, fmt.Sprint(m)
	})
	t.Cleanup(func() {
		if t.Failed() {
			for _, h := range c.Hosts {
				t.Logf("%s's data plane:\n%s", h.Name, dataPlane(h))
			}
		}
	})
	meshAnswers := func(h *harness.Host) {
		t.Helper()
		harness.Eventually(t, 30*time.Second, func() (bool, string) {
			body, err := httpGetIn(h, h.Addr+":8080")
			return err == nil && strings.Contains(body, "Hostname: "), fmt.Sprintf("GET %s:8080 on %s: %v %s", h.Addr, h.Name, err, body)
		})
	}
	for _, h := range c.Hosts {
		meshAnswers(h)
	}

	// a port published in host mode answers on the node of its task only, and service ps shows it
	h1.MustDocker(t, "service", "create", "-d", "--name", "hostport", "--publish", "mode=host,published=8081,target=80",
		"--constraint", "node.hostname==host2", imgs["whoami:1"])
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out := h1.MustDocker(t, "service", "ps", "hostport", "--format", "{{.Node}} {{.CurrentState}} {{.Ports}}")
		return strings.HasPrefix(out, "host2 Running") && strings.HasSuffix(out, "*:8081->80/tcp"), out
	})
	h2 := c.Hosts[1]
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		body, err := httpGetIn(h2, h2.Addr+":8081")
		return err == nil && strings.Contains(body, "Hostname: "), fmt.Sprintf("GET %s:8081: %v %s", h2.Addr, err, body)
	})
	if body, err := httpGetIn(h1, h1.Addr+":8081"); err == nil {
		t.Errorf("host1 answers on host2's host-mode port: %s", body)
	}

	// shoald killed and started again on host1: its containers kept their networks, and their DNS
	// and the routing mesh answer again
	h1.Kill()
	h1.Start()
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out, stderr, _ := h1.Docker(t, "exec", probe, "nslookup", "bar")
		return lookupAddrs(out)[0] == vip, out + stderr
	})
	if out, stderr, code := h1.Docker(t, "exec", client, "/whoami", "get", "http://bar/"); code != 0 {
		t.Errorf("GET http://bar/ after shoald's restart: exit %d: %s%s", code, out, stderr)
	}
	meshAnswers(h1)
}

// dataPlane shows a host's addresses and nftables rules, and those of its ingress sandbox, for a
// failure's log.
func dataPlane(h *harness.Host) string {
	var b strings.Builder
	sandbox := filepath.Join(h.Daemon.ExecRoot, "netns", "ingress_sbox")
	for _, args := range [][]string{
		{"ip", "-br", "addr"}, {"nft", "list", "ruleset"},
		{"nsenter", "--net=" + sandbox, "ip", "-br", "addr"}, {"nsenter", "--net=" + sandbox, "ip", "neigh"},
		{"nsenter", "--net=" + sandbox, "nft", "list", "ruleset"},
	} {
		out, err := h.Command(args[0], args[1:]...).CombinedOutput()
		fmt.Fprintf(&b, "$ %s (%v)\n%s\n", strings.Join(args, " "), err, out)
	}
	return b.String()
}

// serviceVIP is a service's virtual IP on a network (without its prefix length).
func serviceVIP(t *testing.T, h *harness.Host, svc, network string) string {
	t.Helper()
	netID := strings.TrimSpace(h.MustDocker(t, "network", "inspect", "-f", "{{.ID}}", network))
	out := h.MustDocker(t, "service", "inspect", "-f", `{{range .Endpoint.VirtualIPs}}{{.NetworkID}} {{.Addr}}{{"\n"}}{{end}}`, svc)
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == netID {
			return strings.SplitN(f[1], "/", 2)[0]
		}
	}
	t.Fatalf("service %s has no VIP on %s: %s", svc, network, out)
	return ""
}

// serviceTaskIPs are the addresses of a service's running tasks on a network, sorted.
func serviceTaskIPs(t *testing.T, h *harness.Host, svc, network string) []string {
	t.Helper()
	ids := strings.Fields(h.MustDocker(t, "service", "ps", "-q", "--filter", "desired-state=running", svc))
	var out []string
	for _, id := range ids {
		s := h.MustDocker(t, "inspect", "-f", `{{range .NetworksAttachments}}{{.Network.Spec.Name}} {{range .Addresses}}{{.}}{{end}}{{"\n"}}{{end}}`, id)
		for _, l := range strings.Split(s, "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == network {
				out = append(out, strings.SplitN(f[1], "/", 2)[0])
			}
		}
	}
	sort.Strings(out)
	return out
}

var nslookupAddr = regexp.MustCompile(`(?m)^Address(?: \d+)?:\s+(\d+\.\d+\.\d+\.\d+)\s*$`)

// lookupAddrs are the answers busybox nslookup printed, sorted, after the server's own address;
// a slice of one empty string when there were none.
func lookupAddrs(out string) []string {
	_, answers, ok := strings.Cut(out, "Name:")
	if !ok {
		return []string{""}
	}
	var got []string
	for _, m := range nslookupAddr.FindAllStringSubmatch(answers, -1) {
		got = append(got, m[1])
	}
	if len(got) == 0 {
		return []string{""}
	}
	sort.Strings(got)
	return got
}

// whoamiHost is the Hostname line of a whoami answer.
func whoamiHost(body string) string {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if h, ok := strings.CutPrefix(sc.Text(), "Hostname: "); ok {
			return h
		}
	}
	return ""
}

// httpGetIn does GET / on addr from inside a test host's network namespace.
func httpGetIn(h *harness.Host, addr string) (string, error) {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) { return h.Dial(ctx, network, a) },
		DisableKeepAlives: true}
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func sameKeys(got, want map[string]bool) bool {
	if len(got) != len(want) {
		return false
	}
	for k := range want {
		found := false
		for g := range got {
			if strings.HasPrefix(k, g) || strings.HasPrefix(g, k) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
