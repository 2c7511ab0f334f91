package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/integration/harness"
)

// swarmOf makes a cluster of n hosts with a registry host, inits a swarm on host1 and joins
// managers-1 more managers and the rest as workers. It returns the cluster and the image refs.
func swarmOf(t *testing.T, n, managers int) (*harness.Cluster, harness.Images) {
	t.Helper()
	c := harness.NewCluster(t, n, harness.ClusterOptions{Registry: true})
	imgs := harness.PushImages(t, c.Registry)
	h1 := c.Hosts[0]
	h1.MustDocker(t, "swarm", "init", "--advertise-addr", h1.Addr)
	mtok := h1.MustDocker(t, "swarm", "join-token", "-q", "manager")
	wtok := h1.MustDocker(t, "swarm", "join-token", "-q", "worker")
	for i, h := range c.Hosts[1:] {
		tok, want := wtok, "This node joined a swarm as a worker."
		if i+1 < managers {
			tok, want = mtok, "This node joined a swarm as a manager."
		}
		if out := h.MustDocker(t, "swarm", "join", "--token", tok, h1.Addr+":2377"); out != want {
			t.Fatalf("%s join printed %q, want %q", h.Name, out, want)
		}
	}
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out := h1.MustDocker(t, "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}")
		ready := strings.Count(out, " Ready")
		reach := strings.Count(out, "Reachable") + strings.Count(out, "Leader")
		return ready == n && reach == managers, out
	})
	return c, imgs
}

// tasksPerNode counts the running tasks of a service on each node hostname.
func tasksPerNode(t *testing.T, h *harness.Host, svc string) map[string]int {
	out := h.MustDocker(t, "service", "ps", svc, "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}")
	m := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[1] == "Running" {
			m[f[0]]++
		}
	}
	return m
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestMultiNodeSwarm: 3 managers and 2 workers joined with both tokens; replicas spread; drain,
// pause, promote, demote, leave and rm with their refusals.
func TestMultiNodeSwarm(t *testing.T) {
	c, imgs := swarmOf(t, 5, 3)
	h1, h2, h4, h5 := c.Hosts[0], c.Hosts[1], c.Hosts[3], c.Hosts[4]

	// a wrong secret and a token of another cluster (checked from host5 once it has left)
	wtok := h1.MustDocker(t, "swarm", "join-token", "-q", "worker")
	bad := wtok[:len(wtok)-25] + strings.Repeat("0", 25)
	other := "SWMTKN-1-" + strings.Repeat("1", 50) + "-" + strings.Repeat("2", 25)

	nodes := h2.MustDocker(t, "node", "ls", "--format", "{{.Hostname}}={{.ManagerStatus}};")
	for _, want := range []string{"host1=Leader;", "host2=Reachable;", "host3=Reachable;", "host4=;", "host5=;"} {
		if !strings.Contains(nodes, want) {
			t.Errorf("node ls on a follower lacks %q:\n%s", want, nodes)
		}
	}
	// the same through the Go SDK, on another follower
	sdk := c.Hosts[2].Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sdkNodes, err := sdk.NodeList(ctx, swarm.NodeListOptions{Filters: filters.NewArgs(filters.Arg("role", "manager"))})
	if err != nil || len(sdkNodes) != 3 {
		t.Fatalf("SDK node list of managers: %d %v", len(sdkNodes), err)
	}
	leaders := 0
	for _, n := range sdkNodes {
		if n.ManagerStatus != nil && n.ManagerStatus.Leader {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("SDK sees %d leaders", leaders)
	}
	if _, err := c.Hosts[3].Client(t).NodeList(ctx, swarm.NodeListOptions{}); !errdefs.IsUnavailable(err) {
		t.Errorf("SDK node list on a worker: %v, want Docker's 503", err)
	}

	_, stderr, code := h4.Docker(t, "node", "ls")
	wantFail(t, "node ls on a worker", stderr, code, "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state.")

	// 6 replicas over 5 nodes, created through a follower with the SDK
	six := uint64(6)
	if _, err := sdk.ServiceCreate(ctx, swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "web"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: imgs["sleeper:1"]}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &six}}}, swarm.ServiceCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 120*time.Second, func() (bool, string) {
		m := tasksPerNode(t, h1, "web")
		return total(m) == 6 && len(m) == 5, fmt.Sprint(m)
	})

	// drain a worker: its tasks move away and show shut down in node ps
	h1.MustDocker(t, "node", "update", "--availability", "drain", "host4")
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		m := tasksPerNode(t, h1, "web")
		return total(m) == 6 && m["host4"] == 0, fmt.Sprint(m)
	})
	if ps := h1.MustDocker(t, "node", "ps", "host4", "--format", "{{.DesiredState}}"); !strings.Contains(ps, "Shutdown") {
		t.Errorf("node ps host4 after drain:\n%s", ps)
	}
	h1.MustDocker(t, "node", "update", "--availability", "pause", "host5")
	if got := h1.MustDocker(t, "node", "inspect", "host5", "--format", "{{.Spec.Availability}}"); got != "pause" {
		t.Errorf("pause: %q", got)
	}
	h1.MustDocker(t, "node", "update", "--availability", "active", "host5")

	// promote a worker, demote a manager
	if out := h1.MustDocker(t, "node", "promote", "host4"); !strings.Contains(out, "promoted to a manager in the swarm") {
		t.Errorf("promote printed %q", out)
	}
	h1.MustDocker(t, "node", "demote", "host2")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out := h1.MustDocker(t, "node", "ls", "--format", "{{.Hostname}}={{.ManagerStatus}};")
		return strings.Contains(out, "host4=Reachable;") && strings.Contains(out, "host2=;"), out
	})
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		_, stderr, code := h2.Docker(t, "node", "ls")
		return code != 0 && strings.Contains(stderr, "not a swarm manager"), "host2 still answers node ls as a manager"
	})
	if out := h4.MustDocker(t, "node", "ls", "-q"); len(strings.Fields(out)) != 5 {
		t.Errorf("node ls on the promoted host4:\n%s", out)
	}

	// leave and rm rules
	_, stderr, code = h4.Docker(t, "swarm", "leave")
	wantFail(t, "leave on a manager", stderr, code, "You are attempting to leave the swarm on a node that is participating as a manager.")
	_, stderr, code = h1.Docker(t, "node", "rm", "host5")
	wantFail(t, "rm a node that is up", stderr, code, "is not down and can't be removed")
	_, stderr, code = h1.Docker(t, "node", "rm", "host1")
	wantFail(t, "rm a manager", stderr, code, "is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal")
	if ps := h5.MustDocker(t, "ps", "-q"); ps == "" {
		t.Errorf("host5 runs no task before it leaves")
	}
	if out := h5.MustDocker(t, "swarm", "leave"); out != "Node left the swarm." {
		t.Errorf("worker leave printed %q", out)
	}
	if ps := h5.MustDocker(t, "ps", "-aq"); ps != "" {
		t.Errorf("task containers left after leaving the swarm:\n%s", ps)
	}
	_, stderr, code = h5.Docker(t, "swarm", "join", "--token", bad, h1.Addr+":2377")
	wantFail(t, "join with a wrong secret", stderr, code, "A valid join token is necessary to join this cluster")
	_, stderr, code = h5.Docker(t, "swarm", "join", "--token", other, h1.Addr+":2377")
	wantFail(t, "join with another cluster's token", stderr, code, "remote CA does not match fingerprint")
	h1.MustDocker(t, "node", "rm", "--force", "host5")
	// a node that joins again gets a new ID
	old := h1.MustDocker(t, "node", "ls", "-q")
	h5.MustDocker(t, "swarm", "join", "--token", wtok, h1.Addr+":2377")
	id5 := h5.MustDocker(t, "info", "--format", "{{.Swarm.NodeID}}")
	if strings.Contains(old, id5) {
		t.Errorf("host5 rejoined with an old ID %s", id5)
	}
}

// TestLeaderLoss: SIGKILL of the leader while a client keeps updating a service: a new leader within
// 10 s, and every update the client saw succeed is in the final spec.
func TestLeaderLoss(t *testing.T) {
	c, imgs := swarmOf(t, 3, 3)
	h1, h2, h3 := c.Hosts[0], c.Hosts[1], c.Hosts[2]
	h2.MustDocker(t, "service", "create", "-d", "--name", "svc", "--replicas", "3", imgs["sleeper:1"])

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the client: one label per update, on host2 then host3
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			h := h2
			if i%2 == 1 {
				h = h3
			}
			label := fmt.Sprintf("u%d=1", i)
			if _, _, code := h.Docker(t, "service", "update", "-d", "--label-add", label, "svc"); code == 0 {
				mu.Lock()
				acked = append(acked, strings.TrimSuffix(label, "=1"))
				mu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(2 * time.Second)
	h1.Kill()
	killed := time.Now()
	var leader string
	harness.Eventually(t, 10*time.Second, func() (bool, string) {
		out, _, code := h2.Docker(t, "node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}")
		for _, l := range strings.Split(out, "\n") {
			if strings.HasSuffix(l, " Leader") && !strings.HasPrefix(l, "host1 ") {
				leader = strings.Fields(l)[0]
				return code == 0, out
			}
		}
		return false, out
	})
	t.Logf("new leader %s %v after the kill", leader, time.Since(killed).Round(100*time.Millisecond))
	time.Sleep(2 * time.Second)
	close(stop)
	<-done
	labels := h2.MustDocker(t, "service", "inspect", "svc", "--format", "{{json .Spec.Labels}}")
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 5 {
		t.Fatalf("only %d updates acknowledged", len(acked))
	}
	for _, l := range acked {
		if !strings.Contains(labels, `"`+l+`"`) {
			t.Errorf("acknowledged update %s is lost; labels %s", l, labels)
		}
	}
	if out := h3.MustDocker(t, "node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}"); !strings.Contains(out, "host1 Unreachable") {
		t.Errorf("node ls after the leader's loss:\n%s", out)
	}
}

// TestWorkerLoss: a killed worker turns Down and its tasks run elsewhere within 30 s; when it comes
// back it stays empty.
func TestWorkerLoss(t *testing.T) {
	c, imgs := swarmOf(t, 3, 1)
	h1, h3 := c.Hosts[0], c.Hosts[2]
	h1.MustDocker(t, "service", "create", "-d", "--name", "web", "--replicas", "3", imgs["sleeper:1"])
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		m := tasksPerNode(t, h1, "web")
		return total(m) == 3 && m["host3"] > 0, fmt.Sprint(m)
	})
	h3.Kill()
	killed := time.Now()
	harness.Eventually(t, 45*time.Second, func() (bool, string) {
		m := tasksPerNode(t, h1, "web")
		return total(m) == 3 && m["host3"] == 0, fmt.Sprint(m)
	})
	t.Logf("replacements running %v after the worker's kill", time.Since(killed).Round(100*time.Millisecond))
	if st := h1.MustDocker(t, "node", "inspect", "host3", "--format", "{{.Status.State}}"); st != "down" {
		t.Errorf("killed worker's state %q, want down", st)
	}
	h3.Start()
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		st := h1.MustDocker(t, "node", "inspect", "host3", "--format", "{{.Status.State}}")
		return st == "ready", st
	})
	time.Sleep(3 * time.Second)
	if m := tasksPerNode(t, h1, "web"); m["host3"] != 0 || total(m) != 3 {
		t.Errorf("after the worker came back: %v (no rebalancing expected)", m)
	}
}

// TestPartitionAndQuorum: the leader cut off refuses writes while the majority elects and serves;
// two managers lost answer Docker's no-leader error, containers keep running, and the cluster heals
// when one comes back; then --force-new-cluster recovers from a lasting loss.
func TestPartitionAndQuorum(t *testing.T) {
	c, imgs := swarmOf(t, 3, 3)
	h1, h2, h3 := c.Hosts[0], c.Hosts[1], c.Hosts[2]
	h1.MustDocker(t, "service", "create", "-d", "--name", "web", "--replicas", "3", imgs["sleeper:1"])
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		m := tasksPerNode(t, h1, "web")
		return total(m) == 3, fmt.Sprint(m)
	})

	h1.Cut()
	harness.Eventually(t, 20*time.Second, func() (bool, string) {
		_, stderr, code := h1.Docker(t, "service", "update", "-d", "--label-add", "minority=1", "web")
		return code != 0, "the cut-off leader still takes writes: " + stderr
	})
	harness.Eventually(t, 20*time.Second, func() (bool, string) {
		_, stderr, code := h2.Docker(t, "service", "update", "-d", "--label-add", "majority=1", "web")
		return code == 0, stderr
	})
	h1.Heal()
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out, _, _ := h1.Docker(t, "service", "inspect", "web", "--format", "{{json .Spec.Labels}}")
		return strings.Contains(out, "majority") && !strings.Contains(out, "minority"), out
	})

	// quorum loss: two of three managers killed
	before := h1.MustDocker(t, "ps", "-q")
	h2.Kill()
	h3.Kill()
	harness.Eventually(t, 20*time.Second, func() (bool, string) {
		_, stderr, code := h1.Docker(t, "service", "ls")
		return code != 0 && strings.Contains(stderr, "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online."), stderr
	})
	if after := h1.MustDocker(t, "ps", "-q"); after != before {
		t.Errorf("containers changed without a leader:\n%s\nwas:\n%s", after, before)
	}
	h2.Start()
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		out, _, code := h1.Docker(t, "service", "ls", "--format", "{{.Name}}")
		return code == 0 && strings.TrimSpace(out) == "web", out
	})

	// a lasting loss: --force-new-cluster on the survivor keeps the state
	h2.Kill()
	harness.Eventually(t, 20*time.Second, func() (bool, string) {
		_, _, code := h1.Docker(t, "service", "ls")
		return code != 0, "still a leader"
	})
	h1.MustDocker(t, "swarm", "init", "--force-new-cluster", "--advertise-addr", h1.Addr)
	if out := h1.MustDocker(t, "service", "ls", "--format", "{{.Name}}"); out != "web" {
		t.Errorf("services after --force-new-cluster: %q", out)
	}
	h1.MustDocker(t, "service", "create", "-d", "--name", "after", imgs["sleeper:1"])
}

// TestFullClusterRestart: every host stopped, then started in another order: the services converge.
func TestFullClusterRestart(t *testing.T) {
	c, imgs := swarmOf(t, 3, 3)
	h1 := c.Hosts[0]
	h1.MustDocker(t, "service", "create", "-d", "--name", "web", "--replicas", "4", imgs["sleeper:1"])
	h1.MustDocker(t, "service", "create", "-d", "--name", "glob", "--mode", "global", imgs["sleeper:1"])
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		return total(tasksPerNode(t, h1, "web")) == 4 && total(tasksPerNode(t, h1, "glob")) == 3, "not converged"
	})
	for _, h := range c.Hosts {
		h.Kill()
	}
	for _, i := range []int{2, 0, 1} {
		c.Hosts[i].Start()
	}
	harness.Eventually(t, 120*time.Second, func() (bool, string) {
		out, _, code := c.Hosts[2].Docker(t, "service", "ls", "--format", "{{.Name}} {{.Replicas}}")
		return code == 0 && strings.Contains(out, "web 4/4") && strings.Contains(out, "glob 3/3"), out
	})
}
