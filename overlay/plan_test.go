package overlay

import (
	"net/netip"
	"reflect"
	"strconv"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/overlay/lb"
	"github.com/shoal-project/shoal/swarm/netview"
)

func overlayNet(id, name, vni, subnet, gw string, labels map[string]string) swarm.Network {
	n := swarm.Network{ID: id}
	n.Spec.Name = name
	n.Spec.Labels = labels
	n.DriverState = swarm.Driver{Name: "overlay", Options: map[string]string{vxlanIDOption: vni}}
	n.IPAMOptions = &swarm.IPAMOptions{Configs: []swarm.IPAMConfig{{Subnet: subnet, Gateway: gw}}}
	return n
}

func TestTaskAttachments(t *testing.T) {
	host := overlayNet("h", "host", "", "", "", map[string]string{"com.docker.swarm.predefined": "true"})
	front := overlayNet("n1", "front", "4097", "10.0.1.0/24", "10.0.1.1", nil)
	back := overlayNet("n2", "back", "4098", "10.0.2.0/24", "10.0.2.1", nil)
	noVNI := overlayNet("n3", "bad", "", "10.0.3.0/24", "10.0.3.1", nil)

	task := func(atts ...swarm.NetworkAttachment) swarm.Task { return swarm.Task{NetworksAttachments: atts} }
	tests := []struct {
		name    string
		task    swarm.Task
		want    []string // network IDs and addresses
		wantErr bool
	}{
		{"none", task(), nil, false},
		{"host network only", task(swarm.NetworkAttachment{Network: host}), nil, false},
		{"two overlays in order", task(
			swarm.NetworkAttachment{Network: back, Addresses: []string{"10.0.2.7/24"}},
			swarm.NetworkAttachment{Network: front, Addresses: []string{"10.0.1.5/24"}}),
			[]string{"n2 10.0.2.7/24 4098 10.0.2.0/24 10.0.2.1", "n1 10.0.1.5/24 4097 10.0.1.0/24 10.0.1.1"}, false},
		{"no address yet", task(swarm.NetworkAttachment{Network: front}), nil, false},
		{"no VNI", task(swarm.NetworkAttachment{Network: noVNI, Addresses: []string{"10.0.3.2/24"}}), nil, true},
		{"bad address", task(swarm.NetworkAttachment{Network: front, Addresses: []string{"nope"}}), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			atts, err := taskAttachments(tc.task)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			var got []string
			for _, a := range atts {
				got = append(got, a.NetworkID+" "+a.Addr.String()+" "+itoa(a.Network.VNI)+" "+a.Network.Subnet.String()+" "+a.Network.Gateway.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

var testView = netview.NodeView{
	IngressAddr: "10.0.0.9/24",
	Networks: []netview.Network{
		{ID: "ing", Name: "ingress", VNI: 4096, Subnet: "10.0.0.0/24", Gateway: "10.0.0.1", Ingress: true,
			Endpoints: []netview.Endpoint{
				{TaskID: "t1", ServiceID: "web", NodeID: "a", IP: "10.0.0.5", VTEP: "198.18.0.1", Running: true},
				{TaskID: "t2", ServiceID: "web", NodeID: "b", IP: "10.0.0.6", VTEP: "198.18.0.2", Running: true},
				{TaskID: "t3", ServiceID: "web", NodeID: "b", IP: "10.0.0.7", VTEP: "198.18.0.2"},
				{NodeID: "b", IP: "10.0.0.10", VTEP: "198.18.0.2"}, // node b's ingress sandbox
			},
			Services: []netview.Service{{ID: "web", Name: "web", VIP: "10.0.0.2",
				Ports: []netview.Port{{Protocol: "tcp", PublishedPort: 8080, TargetPort: 80}, {Protocol: "udp", PublishedPort: 53, TargetPort: 5353}}}}},
		{ID: "n1", Name: "front", VNI: 4097, Subnet: "10.0.1.0/24", Gateway: "10.0.1.1",
			Endpoints: []netview.Endpoint{
				{TaskID: "t1", ServiceID: "web", NodeID: "a", IP: "10.0.1.5", VTEP: "198.18.0.1", Running: true},
				{TaskID: "t2", ServiceID: "web", NodeID: "b", IP: "10.0.1.6", VTEP: "198.18.0.2", Running: true},
				{TaskID: "t4", ServiceID: "db", NodeID: "b", IP: "10.0.1.8", VTEP: "198.18.0.2", Running: true},
			},
			Services: []netview.Service{{ID: "db", Name: "db"}, {ID: "web", Name: "web", VIP: "10.0.1.2"}}},
	},
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestPeersOf(t *testing.T) {
	local := func(a netip.Addr) bool { return a == netip.MustParseAddr("198.18.0.1") }
	var got []string
	for _, p := range peersOf(testView.Networks[0], local) {
		got = append(got, p.IP.String()+"@"+p.VTEP.String()+" "+p.MAC.String())
	}
	want := []string{"10.0.0.6@198.18.0.2 02:42:0a:00:00:06", "10.0.0.7@198.18.0.2 02:42:0a:00:00:07", "10.0.0.10@198.18.0.2 02:42:0a:00:00:0a"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("peers %q, want %q", got, want)
	}
}

func TestVIPsFor(t *testing.T) {
	got := vipsFor(testView, []string{"ing", "n1", "gone"})
	want := []lb.VIP{{Addr: netip.MustParseAddr("10.0.1.2"), Backends: addrs("10.0.1.5", "10.0.1.6")}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("vips %+v, want %+v (the ingress network and dnsrr services carry none)", got, want)
	}
}

func TestIngressPorts(t *testing.T) {
	in, ok := ingressNetwork(testView)
	if !ok {
		t.Fatal("no ingress network")
	}
	got := ingressPorts(in)
	web := addrs("10.0.0.5", "10.0.0.6") // running tasks only, the sandbox is no backend
	want := []lb.IngressPort{
		{Protocol: "udp", PublishedPort: 53, TargetPort: 5353, Backends: web},
		{Protocol: "tcp", PublishedPort: 8080, TargetPort: 80, Backends: web},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ports %+v, want %+v", got, want)
	}
	hp := hostPorts(got, netip.MustParseAddr("172.18.0.2"))
	if len(hp) != 2 || hp[1].Port != 8080 || hp[1].Protocol != "tcp" || hp[1].Dest.String() != "172.18.0.2" {
		t.Fatalf("host ports %+v", hp)
	}
}

func TestGatewaySubnet(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name             string
		addrs            map[string][]netip.Prefix
		gateway, sandbox string
	}{
		{"free", map[string][]netip.Prefix{"eth0": {p("192.0.2.2/24")}}, "172.18.0.1/16", "172.18.0.2/16"},
		{"docker's bridge holds 172.18", map[string][]netip.Prefix{"docker_gwbridge": {p("172.18.0.1/16")}, "docker0": {p("172.19.5.1/24")}},
			"172.20.0.1/16", "172.20.0.2/16"},
		{"ours already has one", map[string][]netip.Prefix{gatewayBridge: {p("fe80::1/64"), p("172.25.0.1/16")}}, "172.25.0.1/16", "172.25.0.2/16"},
	}
	for _, tc := range tests {
		g, s, err := gatewaySubnet(tc.addrs)
		if err != nil || g.String() != tc.gateway || s.String() != tc.sandbox {
			t.Errorf("%s: %v %v %v, want %s %s", tc.name, g, s, err, tc.gateway, tc.sandbox)
		}
	}
	all := map[string][]netip.Prefix{"big": {p("172.16.0.0/12")}}
	if _, _, err := gatewaySubnet(all); err == nil {
		t.Error("no error when every candidate is taken")
	}
}

func TestGatewayAddrs(t *testing.T) {
	subnet := netip.MustParsePrefix("172.18.0.0/16")
	got, err := nextGatewayAddr(subnet, map[netip.Addr]bool{netip.MustParseAddr("172.18.0.3"): true})
	if err != nil || got.String() != "172.18.0.4/16" {
		t.Errorf("next address %v %v, want 172.18.0.4/16 (.1 bridge, .2 sandbox, .3 used)", got, err)
	}
	small := netip.MustParsePrefix("10.9.9.0/30") // .0 net, .3 broadcast: nothing from .3 on
	if _, err := nextGatewayAddr(small, nil); err == nil {
		t.Error("an address in a full subnet")
	}
	for _, tc := range []struct {
		atts []attachment
		want bool
	}{
		{nil, true},
		{[]attachment{{Internal: true}}, false},
		{[]attachment{{Internal: true}, {}}, true},
	} {
		if got := needsGateway(tc.atts); got != tc.want {
			t.Errorf("needsGateway(%+v) = %v", tc.atts, got)
		}
	}
}

func TestHostModePorts(t *testing.T) {
	pub := publishedPorts([]swarm.PortConfig{
		{Protocol: "tcp", TargetPort: 80, PublishedPort: 8081, PublishMode: swarm.PortConfigPublishModeHost},
		{TargetPort: 53, PublishedPort: 5353, PublishMode: swarm.PortConfigPublishModeHost}, // tcp by default
		{Protocol: "udp", TargetPort: 9, PublishMode: swarm.PortConfigPublishModeHost},      // the node's choice: not forwarded
		{Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: swarm.PortConfigPublishModeIngress},
	})
	want := []published{{"tcp", 8081, 80}, {"tcp", 5353, 53}}
	if !reflect.DeepEqual(pub, want) {
		t.Fatalf("published %+v, want %+v", pub, want)
	}
	a, b := netip.MustParseAddr("172.18.0.3"), netip.MustParseAddr("172.18.0.4")
	ports, dropped := gatewayPorts([]hostModePort{
		{taskID: "t2", dest: b, published: published{"tcp", 8081, 80}}, // the same port as t1's: dropped
		{taskID: "t1", dest: a, published: published{"tcp", 8081, 80}},
		{taskID: "t1", dest: a, published: published{"udp", 8081, 81}},
		{taskID: "t3", published: published{"tcp", 9000, 90}}, // no gateway address
	})
	wantPorts := []lb.GatewayPort{{Protocol: "tcp", Port: 8081, Dest: a, TargetPort: 80}, {Protocol: "udp", Port: 8081, Dest: a, TargetPort: 81}}
	if !reflect.DeepEqual(ports, wantPorts) {
		t.Errorf("ports %+v, want %+v", ports, wantPorts)
	}
	if len(dropped) != 2 || dropped[0].taskID != "t2" || dropped[1].taskID != "t3" {
		t.Errorf("dropped %+v", dropped)
	}
}

func TestIsBackend(t *testing.T) {
	if !isBackend(testView, "t1") || isBackend(testView, "t3") || isBackend(testView, "gone") {
		t.Error("t1 runs (a backend); t3 does not run; gone is not in the view")
	}
}

func TestNetworkPeers(t *testing.T) {
	got := networkPeers(testView.Networks[0])
	want := []Peer{{NodeID: "a", Addr: "198.18.0.1"}, {NodeID: "b", Addr: "198.18.0.2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("peers %+v, want %+v", got, want)
	}
}
