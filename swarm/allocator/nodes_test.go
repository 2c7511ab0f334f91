package allocator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

func node(id, ingressAddr string) *store.Node {
	n := &store.Node{}
	n.ID = id
	n.IngressAddr = ingressAddr
	return n
}

// liveTask is a running task holding addr on network netID.
func liveTask(id, netID, addr string) *store.Task {
	t := &store.Task{}
	t.ID = id
	t.DesiredState, t.Status.State = swarm.TaskStateRunning, swarm.TaskStateRunning
	n := swarm.Network{}
	n.ID = netID
	t.NetworksAttachments = []swarm.NetworkAttachment{{Network: n, Addresses: []string{addr}}}
	return t
}

func TestNodeIngressAddrs(t *testing.T) {
	ingress := allocatedNet("ing", "ingress", "10.0.0.0/24", 4096, ingressNet)
	tiny := allocatedNet("ing", "ingress", "10.0.0.0/30", 4096, ingressNet) // .2 is its only free address
	tiny.IPAMOptions.Configs[0].Gateway = "10.0.0.1"
	withVIP := svc("web", nil, swarm.PortConfig{TargetPort: 80, PublishedPort: 8080})
	withVIP.Endpoint = swarm.Endpoint{Spec: swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP},
		Ports:      []swarm.PortConfig{{Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: "ingress"}},
		VirtualIPs: []swarm.EndpointVirtualIP{{NetworkID: "ing", Addr: "10.0.0.2/24"}}}
	tests := []struct {
		name     string
		networks []*store.Network
		services []*store.Service
		tasks    []*store.Task
		nodes    []*store.Node
		want     map[string]string // node → its address after the pass
		writes   int               // nodes written
		problem  string
	}{
		{name: "no ingress network: addresses cleared",
			nodes:  []*store.Node{node("n1", "10.0.0.3/24"), node("n2", "")},
			want:   map[string]string{"n1": "", "n2": ""},
			writes: 1},
		{name: "ingress not allocated yet: nodes left alone",
			networks: []*store.Network{network("ing", "ingress", ingressNet)},
			nodes:    []*store.Node{node("n1", "10.0.0.3/24"), node("n2", "")},
			want:     map[string]string{"n1": "10.0.0.3/24", "n2": ""},
			writes:   0},
		{name: "fresh nodes after the VIP and task addresses",
			networks: []*store.Network{ingress},
			services: []*store.Service{withVIP},
			tasks:    []*store.Task{liveTask("t1", "ing", "10.0.0.3/24")},
			nodes:    []*store.Node{node("n2", ""), node("n1", "")},
			want:     map[string]string{"n1": "10.0.0.4/24", "n2": "10.0.0.5/24"},
			writes:   2},
		{name: "restart: held addresses are kept and reserved, a new node takes the next one",
			networks: []*store.Network{ingress},
			services: []*store.Service{withVIP},
			tasks:    []*store.Task{liveTask("t1", "ing", "10.0.0.3/24")},
			nodes:    []*store.Node{node("n1", "10.0.0.9/24"), node("n2", "10.0.0.4/24"), node("n3", "")},
			want:     map[string]string{"n1": "10.0.0.9/24", "n2": "10.0.0.4/24", "n3": "10.0.0.10/24"},
			writes:   1},
		{name: "invalid addresses are replaced",
			networks: []*store.Network{ingress},
			tasks:    []*store.Task{liveTask("t1", "ing", "10.0.0.3/24")},
			nodes: []*store.Node{
				node("a-gw", "10.0.0.1/24"),      // the gateway
				node("b-task", "10.0.0.3/24"),    // a live task's
				node("c-old", "10.0.9.3/24"),     // an old ingress subnet's
				node("d-dup", "10.0.0.4/24"),     // kept: first by ID
				node("e-dup", "10.0.0.4/24"),     // the same again
				node("f-bits", "10.0.0.7/16"),    // wrong prefix length
				node("g-junk", "not-an-address"), // unparsable
			},
			want: map[string]string{"a-gw": "10.0.0.5/24", "b-task": "10.0.0.6/24", "c-old": "10.0.0.7/24",
				"d-dup": "10.0.0.4/24", "e-dup": "10.0.0.8/24", "f-bits": "10.0.0.9/24", "g-junk": "10.0.0.10/24"},
			writes: 6},
		{name: "exhausted ingress subnet",
			networks: []*store.Network{tiny},
			nodes:    []*store.Node{node("n1", ""), node("n2", "")},
			want:     map[string]string{"n1": "10.0.0.2/30", "n2": ""},
			writes:   1,
			problem:  "node n2: no free address on the ingress network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Allocate(Input{Networks: tt.networks, Services: tt.services, Tasks: tt.tasks, Nodes: tt.nodes, Now: now})
			got := map[string]string{}
			for _, n := range tt.nodes {
				got[n.ID] = n.IngressAddr
			}
			for _, n := range res.Nodes {
				got[n.ID] = n.IngressAddr
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("addresses\n got  %v\n want %v", got, tt.want)
			}
			if len(res.Nodes) != tt.writes {
				t.Errorf("%d nodes written, want %d", len(res.Nodes), tt.writes)
			}
			if p := strings.Join(res.Problems, "\n"); p != tt.problem {
				t.Errorf("problems %q, want %q", p, tt.problem)
			}
		})
	}
}

// TestNodeIngressAddrAcrossPasses: a node's address is given once and kept by the next passes; a
// task allocated in the same pass as a restart never takes an address a node holds; a removed
// node's address is free again (not handed out at once: the pool moves past the highest in use).
func TestNodeIngressAddrAcrossPasses(t *testing.T) {
	ingress := allocatedNet("ing", "ingress", "10.0.0.0/24", 4096, ingressNet)
	web := svc("web", nil, swarm.PortConfig{TargetPort: 80, PublishedPort: 8080})
	in := Input{Networks: []*store.Network{ingress}, Services: []*store.Service{web},
		Nodes: []*store.Node{node("n1", ""), node("n2", "")}, Now: now}
	res := Allocate(in)
	if len(res.Problems) > 0 || len(res.Services) != 1 || len(res.Nodes) != 2 {
		t.Fatalf("first pass: problems %v, %d services %d nodes", res.Problems, len(res.Services), len(res.Nodes))
	}
	// The VIP was allocated before the nodes: .2, then the nodes .3 and .4.
	if a, b := res.Nodes[0].IngressAddr, res.Nodes[1].IngressAddr; a != "10.0.0.3/24" || b != "10.0.0.4/24" {
		t.Fatalf("node addresses %s %s", a, b)
	}
	// Restart: the store holds what was written; a new task of web is allocated in the same pass.
	in2 := Input{Networks: in.Networks, Services: res.Services, Nodes: res.Nodes,
		Tasks: []*store.Task{newTask("t1", "web")}, Now: now}
	res2 := Allocate(in2)
	if len(res2.Nodes) != 0 || len(res2.Services) != 0 {
		t.Fatalf("second pass rewrote %d nodes %d services", len(res2.Nodes), len(res2.Services))
	}
	if len(res2.Tasks) != 1 || res2.Tasks[0].NetworksAttachments[0].Addresses[0] != "10.0.0.5/24" {
		t.Fatalf("task attachments %+v problems %v", res2.Tasks, res2.Problems)
	}
	// n1 is removed, n3 joins: n3 does not get n1's address at once.
	in3 := Input{Networks: in.Networks, Services: res.Services, Tasks: res2.Tasks,
		Nodes: []*store.Node{res.Nodes[1], node("n3", "")}, Now: now}
	res3 := Allocate(in3)
	if len(res3.Nodes) != 1 || res3.Nodes[0].ID != "n3" || res3.Nodes[0].IngressAddr != "10.0.0.6/24" {
		t.Fatalf("third pass nodes %+v", res3.Nodes)
	}
	// The ingress network is removed: every address is cleared.
	res4 := Allocate(Input{Nodes: []*store.Node{res.Nodes[1], res3.Nodes[0]}, Now: now})
	if len(res4.Nodes) != 2 || res4.Nodes[0].IngressAddr != "" || res4.Nodes[1].IngressAddr != "" {
		t.Fatalf("after ingress removal %+v", res4.Nodes)
	}
}
