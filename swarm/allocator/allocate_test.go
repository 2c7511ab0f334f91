package allocator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

var now = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

func network(id, name string, opts ...func(*store.Network)) *store.Network {
	n := &store.Network{}
	n.ID = id
	n.Spec.Name = name
	n.Spec.DriverConfiguration = &swarm.Driver{Name: "overlay"}
	n.Spec.Scope = "swarm"
	for _, o := range opts {
		o(n)
	}
	return n
}

func ingressNet(n *store.Network) { n.Spec.Ingress = true }

func userSubnet(subnet, gw string) func(*store.Network) {
	return func(n *store.Network) {
		n.Spec.IPAMOptions = &swarm.IPAMOptions{Configs: []swarm.IPAMConfig{{Subnet: subnet, Gateway: gw}}}
	}
}

// allocatedNet is a network as the allocator left it.
func allocatedNet(id, name, subnet string, vni uint32, opts ...func(*store.Network)) *store.Network {
	n := network(id, name, opts...)
	n.IPAMOptions = &swarm.IPAMOptions{Driver: swarm.Driver{Name: "default"},
		Configs: []swarm.IPAMConfig{{Subnet: subnet, Gateway: strings.TrimSuffix(subnet, "0/24") + "1"}}}
	n.VNI = vni
	return n
}

func svc(id string, nets []string, ports ...swarm.PortConfig) *store.Service {
	s := &store.Service{}
	s.ID = id
	s.Spec.Name = id
	for _, n := range nets {
		s.Spec.TaskTemplate.Networks = append(s.Spec.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: n})
	}
	if len(ports) > 0 {
		s.Spec.EndpointSpec = &swarm.EndpointSpec{Ports: ports}
	}
	return s
}

func newTask(id, service string, nets ...string) *store.Task {
	t := &store.Task{}
	t.ID = id
	t.ServiceID = service
	t.DesiredState = swarm.TaskStateRunning
	t.Status = swarm.TaskStatus{State: swarm.TaskStateNew, Message: "created"}
	for _, n := range nets {
		t.Spec.Networks = append(t.Spec.Networks, swarm.NetworkAttachmentConfig{Target: n})
	}
	return t
}

func TestNetworkSubnets(t *testing.T) {
	in := Input{Networks: []*store.Network{
		network("n1", "ingress", ingressNet),
		network("n2", "test"),
		network("n3", "mine", userSubnet("10.99.0.0/24", "")),
		network("n4", "bridgey", func(n *store.Network) { n.Spec.DriverConfiguration.Name = "macvlan" }),
	}}
	res := Allocate(in)
	got := map[string]string{}
	for _, n := range res.Networks {
		got[n.ID] = fmt.Sprintf("%s gw %s vni %d %s", n.IPAMOptions.Configs[0].Subnet, n.IPAMOptions.Configs[0].Gateway,
			n.VNI, n.DriverState.Options[VXLANIDOption])
		if n.IPAMOptions.Driver.Name != "default" || n.DriverState.Name != "overlay" {
			t.Errorf("network %s: driver %q state %q", n.ID, n.IPAMOptions.Driver.Name, n.DriverState.Name)
		}
	}
	want := map[string]string{
		"n1": "10.0.0.0/24 gw 10.0.0.1 vni 4096 4096",
		"n2": "10.0.1.0/24 gw 10.0.1.1 vni 4097 4097",
		"n3": "10.99.0.0/24 gw 10.99.0.1 vni 4098 4098",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}

	// A second pass over the result changes nothing; a new network takes the next free subnet, past a
	// user subnet that sits inside the pool.
	nets := append(res.Networks, network("n5", "user10", userSubnet("10.0.2.0/24", "10.0.2.254")), network("n6", "next"))
	res2 := Allocate(Input{Networks: nets})
	if len(res2.Networks) != 2 {
		t.Fatalf("second pass changed %d networks, want 2", len(res2.Networks))
	}
	for _, n := range res2.Networks {
		c := n.IPAMOptions.Configs[0]
		switch n.ID {
		case "n5":
			if c.Subnet != "10.0.2.0/24" || c.Gateway != "10.0.2.254" {
				t.Errorf("n5 = %+v, want the user's subnet and gateway", c)
			}
		case "n6":
			if c.Subnet != "10.0.3.0/24" {
				t.Errorf("n6 subnet = %s, want 10.0.3.0/24", c.Subnet)
			}
		}
	}
}

func TestClusterAddressPool(t *testing.T) {
	c := &store.Cluster{}
	c.DefaultAddrPool = []string{"10.20.0.0/16"}
	c.SubnetSize = 26
	res := Allocate(Input{Cluster: c, Networks: []*store.Network{network("a", "a"), network("b", "b")}})
	if len(res.Networks) != 2 || res.Networks[0].IPAMOptions.Configs[0].Subnet != "10.20.0.0/26" ||
		res.Networks[1].IPAMOptions.Configs[0].Subnet != "10.20.0.64/26" {
		t.Fatalf("subnets = %+v", res.Networks)
	}
}

func TestServiceAndTasks(t *testing.T) {
	ingress := allocatedNet("ing", "ingress", "10.0.0.0/24", 4096, ingressNet)
	test := allocatedNet("net1", "test", "10.0.1.0/24", 4097)
	web := svc("web", []string{"net1"}, swarm.PortConfig{TargetPort: 80, PublishedPort: 8080},
		swarm.PortConfig{TargetPort: 443})
	plain := svc("plain", nil)
	in := Input{
		Networks: []*store.Network{ingress, test},
		Services: []*store.Service{web, plain},
		Tasks:    []*store.Task{newTask("t1", "web"), newTask("t2", "web"), newTask("p1", "plain")},
		Now:      now,
	}
	res := Allocate(in)
	if len(res.Problems) != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	if len(res.Services) != 1 || res.Services[0].ID != "web" {
		t.Fatalf("services changed = %v, want only web", res.Services)
	}
	ep := res.Services[0].Endpoint
	if got := fmt.Sprint(ep.VirtualIPs); got != "[{ing 10.0.0.2/24} {net1 10.0.1.2/24}]" {
		t.Errorf("VIPs = %s", got)
	}
	if got := fmt.Sprint(ep.Ports); got != "[{ tcp 80 8080 ingress} { tcp 443 30000 ingress}]" {
		t.Errorf("ports = %s", got)
	}
	if ep.Spec.Mode != swarm.ResolutionModeVIP {
		t.Errorf("endpoint spec mode = %q", ep.Spec.Mode)
	}
	addrs := map[string]string{}
	for _, tk := range res.Tasks {
		if tk.Status.State != swarm.TaskStatePending || tk.Status.Message != "pending task scheduling" || !tk.Status.Timestamp.Equal(now) {
			t.Errorf("task %s status %+v", tk.ID, tk.Status)
		}
		var parts []string
		for _, a := range tk.NetworksAttachments {
			parts = append(parts, a.Network.ID+"="+strings.Join(a.Addresses, ","))
			if a.Network.Spec.Name == "" || a.Network.IPAMOptions == nil {
				t.Errorf("task %s attachment lacks the network object", tk.ID)
			}
		}
		addrs[tk.ID] = strings.Join(parts, " ")
	}
	want := map[string]string{
		"p1": "",
		"t1": "ing=10.0.0.3/24 net1=10.0.1.3/24",
		"t2": "ing=10.0.0.4/24 net1=10.0.1.4/24",
	}
	if fmt.Sprint(addrs) != fmt.Sprint(want) {
		t.Errorf("task addresses\n got  %v\n want %v", addrs, want)
	}

	// The next pass, over what was written, is stable; a new task gets the next address and a dead
	// task's address is not handed out again at once.
	dead := res.Tasks[0].Copy() // p1 has none; take t1
	for _, tk := range res.Tasks {
		if tk.ID == "t1" {
			dead = tk.Copy()
		}
	}
	dead.DesiredState, dead.Status.State = swarm.TaskStateShutdown, swarm.TaskStateShutdown
	var tasks []*store.Task
	for _, tk := range res.Tasks {
		if tk.ID != "t1" {
			tasks = append(tasks, tk)
		}
	}
	tasks = append(tasks, dead, newTask("t3", "web"))
	res2 := Allocate(Input{Networks: in.Networks, Services: res.Services, Tasks: tasks, Now: now})
	if len(res2.Services) != 0 || len(res2.Networks) != 0 || len(res2.Tasks) != 1 {
		t.Fatalf("second pass: %d services %d networks %d tasks changed, want 0 0 1", len(res2.Services), len(res2.Networks), len(res2.Tasks))
	}
	if got := res2.Tasks[0].NetworksAttachments[1].Addresses[0]; got != "10.0.1.5/24" {
		t.Errorf("t3 address = %s, want 10.0.1.5/24", got)
	}
}

func TestPortsAndRelease(t *testing.T) {
	ingress := allocatedNet("ing", "ingress", "10.0.0.0/24", 4096, ingressNet)
	a := svc("a", nil, swarm.PortConfig{TargetPort: 80, PublishedPort: 8080})
	b := svc("b", nil, swarm.PortConfig{TargetPort: 80, PublishedPort: 8080})
	c := svc("c", nil, swarm.PortConfig{TargetPort: 53, Protocol: "udp"}, swarm.PortConfig{TargetPort: 53})
	h := svc("h", nil, swarm.PortConfig{TargetPort: 80, PublishedPort: 8081, PublishMode: swarm.PortConfigPublishModeHost})
	res := Allocate(Input{Networks: []*store.Network{ingress}, Services: []*store.Service{a, b, c, h}})
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "port '8080' is already in use by service 'a' (a) as an ingress port") {
		t.Fatalf("problems = %v", res.Problems)
	}
	got := map[string]string{}
	for _, s := range res.Services {
		got[s.ID] = fmt.Sprint(s.Endpoint.Ports, " ", len(s.Endpoint.VirtualIPs))
	}
	want := map[string]string{
		"a": "[{ tcp 80 8080 ingress}] 1",
		"c": "[{ udp 53 30000 ingress} { tcp 53 30000 ingress}] 1",
		"h": "[{ tcp 80 8081 host}] 0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}

	// Removing the ports of c releases its VIP and ports: its endpoint goes back to empty, and the
	// dynamic port it held is free for another service in the same pass.
	var after []*store.Service
	for _, s := range res.Services {
		if s.ID == "c" {
			s = s.Copy()
			s.Spec.EndpointSpec = nil
		}
		after = append(after, s)
	}
	d := svc("d", nil, swarm.PortConfig{TargetPort: 9000})
	res2 := Allocate(Input{Networks: []*store.Network{ingress}, Services: append(after, d)})
	for _, s := range res2.Services {
		switch s.ID {
		case "c":
			if !sameJSON(s.Endpoint, swarm.Endpoint{}) {
				t.Errorf("c endpoint = %+v, want empty", s.Endpoint)
			}
		case "d":
			if s.Endpoint.Ports[0].PublishedPort != 30000 {
				t.Errorf("d port = %d, want 30000 (freed by c)", s.Endpoint.Ports[0].PublishedPort)
			}
		}
	}
}

func TestTaskStates(t *testing.T) {
	test := allocatedNet("net1", "test", "10.0.1.0/24", 4097)
	s := svc("s", []string{"test"}) // by name
	gone := newTask("x", "s")
	gone.DesiredState = swarm.TaskStateShutdown
	job := newTask("j", "s")
	job.DesiredState = swarm.TaskStateComplete
	orphan := newTask("o", "deleted-service")
	missing := svc("m", []string{"nope"})
	res := Allocate(Input{Networks: []*store.Network{test}, Services: []*store.Service{s, missing},
		Tasks: []*store.Task{gone, job, orphan, newTask("m1", "m")}, Now: now})
	got := map[string]string{}
	for _, tk := range res.Tasks {
		got[tk.ID] = string(tk.Status.State)
	}
	want := map[string]string{"j": "pending", "x": "shutdown"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "service m") {
		t.Errorf("problems = %v", res.Problems)
	}
	if len(res.Tasks[0].NetworksAttachments) != 1 || res.Tasks[0].NetworksAttachments[0].Addresses[0] != "10.0.1.3/24" {
		t.Errorf("job task attachments = %+v", res.Tasks[0].NetworksAttachments)
	}
}

func TestNoIngressNetwork(t *testing.T) {
	s := svc("s", nil, swarm.PortConfig{TargetPort: 80})
	res := Allocate(Input{Services: []*store.Service{s}, Tasks: []*store.Task{newTask("t", "s")}})
	if len(res.Tasks) != 0 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], errNoIngress) {
		t.Fatalf("tasks %d problems %v", len(res.Tasks), res.Problems)
	}
}

func TestPortConflict(t *testing.T) {
	a := svc("a", nil, swarm.PortConfig{TargetPort: 80, PublishedPort: 8080})
	h := svc("h", nil, swarm.PortConfig{TargetPort: 80, PublishedPort: 9090, PublishMode: swarm.PortConfigPublishModeHost})
	all := []*store.Service{a, h}
	tests := []struct {
		id   string
		port swarm.PortConfig
		err  string
	}{
		{"", swarm.PortConfig{PublishedPort: 8080}, "port '8080' is already in use by service 'a' (a) as an ingress port"},
		{"", swarm.PortConfig{PublishedPort: 8080, PublishMode: "host"}, "port '8080' is already in use by service 'a' (a) as an ingress port"},
		{"", swarm.PortConfig{PublishedPort: 9090}, "port '9090' is already in use by service 'h' (h) as a host-published port"},
		{"", swarm.PortConfig{PublishedPort: 9090, PublishMode: "host"}, ""},
		{"", swarm.PortConfig{PublishedPort: 8080, Protocol: "udp"}, ""},
		{"a", swarm.PortConfig{PublishedPort: 8080}, ""},
	}
	for _, tt := range tests {
		err := PortConflict(all, tt.id, &swarm.EndpointSpec{Ports: []swarm.PortConfig{tt.port}})
		if (err == nil && tt.err != "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("PortConflict(%+v) = %v, want %q", tt.port, err, tt.err)
		}
	}
}

func TestAddrPool(t *testing.T) {
	subnet := mustPrefix("10.0.9.0/29") // .1 gateway, .2-.6 usable, .7 broadcast
	p, err := newAddrPool(subnet, "", firstHost(subnet))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		a, ok := p.allocate()
		if !ok {
			break
		}
		got = append(got, a.String())
	}
	if fmt.Sprint(got) != "[10.0.9.2/29 10.0.9.3/29 10.0.9.4/29 10.0.9.5/29 10.0.9.6/29]" {
		t.Fatalf("allocated %v", got)
	}
	delete(p.used, ip4ToU32(mustPrefix("10.0.9.3/32").Addr()))
	if a, ok := p.allocate(); !ok || a.String() != "10.0.9.3/29" {
		t.Fatalf("after wrap got %v %v, want 10.0.9.3/29", a, ok)
	}
	r, err := newAddrPool(mustPrefix("10.1.0.0/24"), "10.1.0.128/30", netip0())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.allocate()
	if a.String() != "10.1.0.128/24" {
		t.Fatalf("range allocation = %s, want 10.1.0.128/24", a)
	}
}

// TestHostNetwork: a service on the swarm's predefined host network gets no virtual IP there, and
// its tasks attach to it without an address; an overlay beside it is allocated as usual.
func TestHostNetwork(t *testing.T) {
	host := network("h", "host", func(n *store.Network) {
		n.Spec.DriverConfiguration.Name = "host"
		n.Spec.Labels = map[string]string{"com.docker.swarm.predefined": "true"}
	})
	s := svc("web", []string{"host", "o"})
	in := Input{Networks: []*store.Network{host, allocatedNet("o", "over", "10.0.1.0/24", 4097)},
		Services: []*store.Service{s}, Tasks: []*store.Task{newTask("t1", "web")}, Now: now}
	res := Allocate(in)
	if len(res.Problems) > 0 || len(res.Networks) > 0 {
		t.Fatalf("problems %v, networks written %d", res.Problems, len(res.Networks))
	}
	if len(res.Services) != 1 || fmt.Sprint(res.Services[0].Endpoint.VirtualIPs) != "[{o 10.0.1.2/24}]" {
		t.Fatalf("service endpoint %+v", res.Services)
	}
	in.Services = res.Services
	res = Allocate(in)
	if len(res.Tasks) != 1 || res.Tasks[0].Status.State != swarm.TaskStatePending {
		t.Fatalf("tasks %+v problems %v", res.Tasks, res.Problems)
	}
	var got []string
	for _, a := range res.Tasks[0].NetworksAttachments {
		got = append(got, fmt.Sprintf("%s%v", a.Network.Spec.Name, a.Addresses))
	}
	if fmt.Sprint(got) != "[host[] over[10.0.1.3/24]]" {
		t.Errorf("attachments %v", got)
	}
}

// TestOverlappingSubnetsAndRanges: a user subnet that overlaps an allocated network's (or one
// allocated earlier in the pass) is left unallocated, as Docker's IPAM refuses the pool; with an IP
// range and no gateway, the gateway is the range's first address.
func TestOverlappingSubnetsAndRanges(t *testing.T) {
	ranged := network("r", "ranged", func(n *store.Network) {
		n.Spec.IPAMOptions = &swarm.IPAMOptions{Configs: []swarm.IPAMConfig{{Subnet: "10.20.0.0/24", Range: "10.20.0.128/25"}}}
	})
	in := Input{Networks: []*store.Network{
		allocatedNet("a", "first", "10.10.0.0/24", 4097),
		network("b", "same", userSubnet("10.10.0.0/24", "")),
		network("c", "inside", userSubnet("10.10.0.128/25", "")),
		network("d", "new1", userSubnet("10.30.0.0/16", "")),
		network("e", "new2", userSubnet("10.30.1.0/24", "")),
		ranged,
	}}
	res := Allocate(in)
	got := map[string]string{}
	for _, n := range res.Networks {
		got[n.ID] = n.IPAMOptions.Configs[0].Subnet + " gw " + n.IPAMOptions.Configs[0].Gateway
	}
	want := map[string]string{"d": "10.30.0.0/16 gw 10.30.0.1", "r": "10.20.0.0/24 gw 10.20.0.128"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("allocated %v, want %v", got, want)
	}
	if len(res.Problems) != 3 || !strings.Contains(strings.Join(res.Problems, "\n"), "Pool overlaps with other one on this address space") {
		t.Errorf("problems %v", res.Problems)
	}
}
