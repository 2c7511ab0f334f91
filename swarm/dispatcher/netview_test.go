package dispatcher

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/netview"
	"github.com/shoal-project/shoal/swarm/store"
)

func overlayNet(id, name, subnet, gw string, vni uint32) *store.Network {
	n := &store.Network{}
	n.ID, n.Spec.Name, n.VNI = id, name, vni
	n.Spec.DriverConfiguration = &swarm.Driver{Name: "overlay"}
	n.IPAMOptions = &swarm.IPAMOptions{Driver: swarm.Driver{Name: "default"}, Configs: []swarm.IPAMConfig{{Subnet: subnet, Gateway: gw}}}
	return n
}

func netNode(id, addr, ingressAddr string) *store.Node {
	n := &store.Node{}
	n.ID, n.Status.Addr, n.IngressAddr = id, addr, ingressAddr
	n.Description.Hostname = id
	return n
}

type att struct{ net, addr string }

func netTask(id string, svc *store.Service, slot int, nodeID string, state, desired swarm.TaskState, atts ...att) *store.Task {
	t := &store.Task{}
	t.ID, t.ServiceID, t.ServiceName, t.Slot, t.NodeID = id, svc.ID, svc.Spec.Name, slot, nodeID
	t.Status.State, t.DesiredState = state, desired
	for _, a := range atts {
		na := swarm.NetworkAttachment{}
		na.Network.ID = a.net
		if a.addr != "" {
			na.Addresses = []string{a.addr}
		}
		t.NetworksAttachments = append(t.NetworksAttachments, na)
	}
	return t
}

// netFixture is a cluster of three nodes: web (vip, aliases on front, an ingress port) runs on n1
// and n2, db (dnsrr, on back by name) on n2, api (vip on back) has no task, gone is being removed.
func netFixture() []store.Object {
	ing := overlayNet("ing", "ingress", "10.0.0.0/24", "10.0.0.1", 4096)
	ing.Spec.Ingress = true
	front := overlayNet("net1", "front", "10.0.1.0/24", "10.0.1.1", 4097)
	back := overlayNet("net2", "back", "10.0.2.0/24", "10.0.2.1", 4098)
	back.Spec.Internal = true
	unalloc := &store.Network{}
	unalloc.ID, unalloc.Spec.Name = "net3", "unallocated"
	host := &store.Network{}
	host.ID, host.Spec.Name, host.Spec.DriverConfiguration = "host", "host", &swarm.Driver{Name: "host"}

	web := &store.Service{}
	web.ID, web.Spec.Name = "s-web", "web"
	web.Spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "net1", Aliases: []string{"www", "web-alias"}}, {Target: "host"}}
	web.Endpoint = swarm.Endpoint{Spec: swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP},
		Ports: []swarm.PortConfig{{Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: "ingress"},
			{Protocol: "udp", TargetPort: 81, PublishedPort: 9091, PublishMode: "host"}},
		VirtualIPs: []swarm.EndpointVirtualIP{{NetworkID: "ing", Addr: "10.0.0.2/24"}, {NetworkID: "net1", Addr: "10.0.1.2/24"}}}
	db := &store.Service{}
	db.ID, db.Spec.Name = "s-db", "db"
	db.Spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "BACK", Aliases: []string{"database"}}}
	db.Spec.EndpointSpec = &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR}
	api := &store.Service{}
	api.ID, api.Spec.Name = "s-api", "api"
	api.Spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "net2"}}
	api.Endpoint.VirtualIPs = []swarm.EndpointVirtualIP{{NetworkID: "net2", Addr: "10.0.2.2/24"}}
	gone := &store.Service{}
	gone.ID, gone.Spec.Name, gone.PendingDelete = "s-gone", "gone", true
	gone.Spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "net1"}}
	gone.Endpoint.VirtualIPs = []swarm.EndpointVirtualIP{{NetworkID: "net1", Addr: "10.0.1.9/24"}}

	run, shut := swarm.TaskStateRunning, swarm.TaskStateShutdown
	w1 := netTask("w1", web, 1, "n1", run, run, att{"ing", "10.0.0.3/24"}, att{"net1", "10.0.1.3/24"}, att{"host", ""})
	w1.Spec.Networks = web.Spec.TaskTemplate.Networks
	w2 := netTask("w2", web, 2, "n2", swarm.TaskStateStarting, run, att{"ing", "10.0.0.4/24"}, att{"net1", "10.0.1.4/24"})
	w3 := netTask("w3", web, 3, "n2", swarm.TaskStateFailed, run, att{"net1", "10.0.1.5/24"})
	w4 := netTask("w4", web, 1, "n1", run, shut, att{"net1", "10.0.1.6/24"})
	w5 := netTask("w5", web, 4, "", swarm.TaskStatePending, run, att{"net1", "10.0.1.7/24"})
	d1 := netTask("d1", db, 1, "n2", run, run, att{"net2", "10.0.2.3/24"}, att{"net3", "10.9.0.3/24"})
	return []store.Object{ing, front, back, unalloc, host, web, db, api, gone, w1, w2, w3, w4, w5, d1,
		netNode("n1", "198.18.0.1", "10.0.0.10/24"), netNode("n2", "198.18.0.2", "10.0.0.11/24"), netNode("n3", "198.18.0.3", "")}
}

func TestNodeNetworks(t *testing.T) {
	ingressNet := func(eps ...netview.Endpoint) netview.Network {
		if eps == nil {
			eps = []netview.Endpoint{}
		}
		return netview.Network{ID: "ing", Name: "ingress", VNI: 4096, Subnet: "10.0.0.0/24", Gateway: "10.0.0.1", Ingress: true,
			Endpoints: eps,
			Services:  []netview.Service{{ID: "s-web", Name: "web", VIP: "10.0.0.2", Ports: []netview.Port{{Protocol: "tcp", PublishedPort: 8080, TargetPort: 80}}}}}
	}
	sandbox1 := netview.Endpoint{NodeID: "n1", IP: "10.0.0.10", VTEP: "198.18.0.1"} // the nodes' ingress sandboxes
	sandbox2 := netview.Endpoint{NodeID: "n2", IP: "10.0.0.11", VTEP: "198.18.0.2"}
	fullIngress := ingressNet(sandbox1, sandbox2,
		netview.Endpoint{TaskID: "w1", ServiceID: "s-web", NodeID: "n1", IP: "10.0.0.3", VTEP: "198.18.0.1", Names: []string{"web.1.w1", "w1"}, Running: true},
		netview.Endpoint{TaskID: "w2", ServiceID: "s-web", NodeID: "n2", IP: "10.0.0.4", VTEP: "198.18.0.2", Names: []string{"web.2.w2", "w2"}})
	front := netview.Network{ID: "net1", Name: "front", VNI: 4097, Subnet: "10.0.1.0/24", Gateway: "10.0.1.1",
		Endpoints: []netview.Endpoint{
			{TaskID: "w1", ServiceID: "s-web", NodeID: "n1", IP: "10.0.1.3", VTEP: "198.18.0.1", Names: []string{"web.1.w1", "w1", "www", "web-alias"}, Running: true},
			{TaskID: "w2", ServiceID: "s-web", NodeID: "n2", IP: "10.0.1.4", VTEP: "198.18.0.2", Names: []string{"web.2.w2", "w2", "www", "web-alias"}},
		},
		Services: []netview.Service{{ID: "s-web", Name: "web", VIP: "10.0.1.2", Aliases: []string{"www", "web-alias"}}}}
	back := netview.Network{ID: "net2", Name: "back", VNI: 4098, Subnet: "10.0.2.0/24", Gateway: "10.0.2.1", Internal: true,
		Endpoints: []netview.Endpoint{
			{TaskID: "d1", ServiceID: "s-db", NodeID: "n2", IP: "10.0.2.3", VTEP: "198.18.0.2", Names: []string{"db.1.d1", "d1", "database"}, Running: true},
		},
		Services: []netview.Service{{ID: "s-api", Name: "api", VIP: "10.0.2.2"}, {ID: "s-db", Name: "db", Aliases: []string{"database"}}}}

	tests := []struct {
		name   string
		node   string
		change func(objs []store.Object) // edits the fixture before it is stored
		want   netview.NodeView
	}{
		{name: "n1: its tasks' networks and ingress; terminal, unwanted and unplaced tasks are no endpoints",
			node: "n1", want: netview.NodeView{Networks: []netview.Network{fullIngress, front}, IngressAddr: "10.0.0.10/24"}},
		{name: "n2: dnsrr service without VIP, aliases by network name, a service without tasks",
			node: "n2", want: netview.NodeView{Networks: []netview.Network{fullIngress, front, back}, IngressAddr: "10.0.0.11/24"}},
		{name: "n3: no task, the routing mesh only",
			node: "n3", want: netview.NodeView{Networks: []netview.Network{fullIngress}}},
		{name: "no ingress port: a node without tasks gets nothing",
			node: "n3",
			change: func(objs []store.Object) {
				for _, o := range objs {
					if s, ok := o.(*store.Service); ok && s.ID == "s-web" {
						s.Endpoint.Ports = s.Endpoint.Ports[1:] // the host-mode port only
					}
				}
			},
			want: netview.NodeView{Networks: []netview.Network{}}},
		{name: "a task still running while shut down keeps its network on its node",
			node: "n3",
			change: func(objs []store.Object) {
				for _, o := range objs {
					if tk, ok := o.(*store.Task); ok && tk.ID == "w4" {
						tk.NodeID = "n3"
						tk.NetworksAttachments[0].Network.ID = "net2"
					}
				}
			},
			want: netview.NodeView{Networks: []netview.Network{fullIngress, back}}},
		{name: "an ingress address off the ingress subnet is not given",
			node: "n1",
			change: func(objs []store.Object) {
				for _, o := range objs {
					if n, ok := o.(*store.Node); ok && n.ID == "n1" {
						n.IngressAddr = "10.0.9.10/24"
					}
				}
			},
			want: netview.NodeView{Networks: []netview.Network{ingressNet(sandbox2, fullIngress.Endpoints[2], fullIngress.Endpoints[3]), front}}},
		{name: "an endpoint's VTEP is its node's address; names fall back to the service's aliases",
			node: "n2",
			change: func(objs []store.Object) {
				for _, o := range objs {
					if n, ok := o.(*store.Node); ok && n.ID == "n2" {
						n.Status.Addr = "198.18.0.22"
					}
					if tk, ok := o.(*store.Task); ok && tk.ID == "w2" {
						tk.Spec.Networks = []swarm.NetworkAttachmentConfig{{Target: "front", Aliases: []string{"old"}}}
					}
				}
			},
			want: func() netview.NodeView {
				ing := ingressNet(fullIngress.Endpoints...)
				ing.Endpoints = append([]netview.Endpoint(nil), ing.Endpoints...)
				ing.Endpoints[1].VTEP = "198.18.0.22" // n2's sandbox
				ing.Endpoints[3].VTEP = "198.18.0.22"
				f := front
				f.Endpoints = append([]netview.Endpoint(nil), f.Endpoints...)
				f.Endpoints[1].VTEP = "198.18.0.22"
				f.Endpoints[1].Names = []string{"web.2.w2", "w2", "old"}
				b := back
				b.Endpoints = append([]netview.Endpoint(nil), b.Endpoints...)
				b.Endpoints[0].VTEP = "198.18.0.22"
				return netview.NodeView{Networks: []netview.Network{ing, f, b}, IngressAddr: "10.0.0.11/24"}
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := netFixture()
			if tt.change != nil {
				tt.change(objs)
			}
			st := store.New(nil)
			err := st.Update(context.Background(), func(tx store.Tx) error {
				for _, o := range objs {
					if err := tx.Create(o); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var got netview.NodeView
			st.View(func(tx store.ReadTx) { got = NodeNetworks(tx, tt.node) })
			g, _ := json.MarshalIndent(got, "", " ")
			w, _ := json.MarshalIndent(tt.want, "", " ")
			if string(g) != string(w) {
				t.Errorf("view of %s\n got  %s\n want %s", tt.node, g, w)
			}
		})
	}
}
