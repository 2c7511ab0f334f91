package control

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

// The body `docker network create test --driver overlay` sends (traces/network-create-request.json).
func cliNetworkRequest(name string) network.CreateRequest {
	return network.CreateRequest{Name: name, CreateOptions: network.CreateOptions{
		Driver:  "overlay",
		IPAM:    &network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}},
		Options: map[string]string{},
		Labels:  map[string]string{},
	}}
}

func TestNetworkInspectShape(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCluster(t)
	id, err := c.CreateNetwork(ctx, cliNetworkRequest("test"))
	if err != nil {
		t.Fatal(err)
	}
	// What the allocator adds: the pool it chose and the VNI.
	err = st.Update(ctx, func(tx store.Tx) error {
		n := tx.GetNetwork(id).Copy()
		n.IPAMOptions = &swarm.IPAMOptions{Driver: swarm.Driver{Name: "default"},
			Configs: []swarm.IPAMConfig{{Subnet: "10.0.1.0/24", Gateway: "10.0.1.1"}}}
		n.VNI = 4097
		return tx.Update(n)
	})
	if err != nil {
		t.Fatal(err)
	}
	nw, err := c.GetNetwork(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	// traces/network-inspect-test.json, plus EnableIPv4 that API 1.48+ adds.
	sameAsJSON(t, nw, `{"Name":"test","Id":"`+id+`","Created":"2026-11-25T06:00:00Z","Scope":"swarm","Driver":"overlay",
"EnableIPv4":true,"EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"10.0.1.0/24","Gateway":"10.0.1.1"}]},
"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":null,
"Options":{"com.docker.network.driver.overlay.vxlanid_list":"4097"},"Labels":null}`)

	// Before the allocator runs, inspect shows the requested pool.
	req := cliNetworkRequest("surf_net")
	req.Attachable = true
	req.Labels = map[string]string{"demo": "1"}
	req.IPAM.Config = []network.IPAMConfig{{Subnet: "10.99.0.0/24"}}
	if _, err := c.CreateNetwork(ctx, req); err != nil {
		t.Fatal(err)
	}
	nw, err = c.GetNetwork(ctx, "surf_net")
	if err != nil {
		t.Fatal(err)
	}
	if nw.Driver != "overlay" || !nw.Attachable || nw.Labels["demo"] != "1" || len(nw.IPAM.Config) != 1 ||
		nw.IPAM.Config[0].Subnet != "10.99.0.0/24" || nw.IPAM.Driver != "default" || nw.Options != nil {
		t.Fatalf("unallocated network: %+v", nw)
	}
}

func TestCreateNetworkRefusals(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCluster(t)
	if _, err := c.CreateNetwork(ctx, cliNetworkRequest("test")); err != nil {
		t.Fatal(err)
	}
	ingressID := addIngress(t, c)
	edit := func(name string, f func(r *network.CreateRequest)) network.CreateRequest {
		r := cliNetworkRequest(name)
		f(&r)
		return r
	}
	none := func(*network.CreateRequest) {}
	tests := []struct {
		req    network.CreateRequest
		status int
		text   string
	}{
		{edit("bridge", none), 403, "bridge is a pre-defined network and cannot be created"},
		{edit("host", none), 403, "host is a pre-defined network and cannot be created"},
		{edit("test", none), 409, "network with name test already exists"},
		{edit("ing2", func(r *network.CreateRequest) { r.Ingress = true }), 409,
			"rpc error: code = AlreadyExists desc = ingress network (" + ingressID + ") is already present"},
		{edit("ing3", func(r *network.CreateRequest) { r.Ingress, r.Attachable = true, true }), 400,
			"rpc error: code = InvalidArgument desc = ingress network cannot be attachable"},
		{edit("my.net", none), 400, "rpc error: code = InvalidArgument desc = name must be valid as a DNS name component"},
		{edit("mac", func(r *network.CreateRequest) { r.Driver = "macvlan" }), 400,
			"rpc error: code = InvalidArgument desc = plugin macvlan not supported"},
		{edit("lbl", func(r *network.CreateRequest) { r.Labels = map[string]string{labelPredefined: "true"} }), 403,
			"rpc error: code = PermissionDenied desc = label com.docker.swarm.predefined is for internally created predefined networks and cannot be applied by users"},
		{edit("sub", func(r *network.CreateRequest) { r.IPAM.Config = []network.IPAMConfig{{Subnet: "10.0.0.0/33"}} }), 400,
			"invalid network config:\ninvalid subnet 10.0.0.0/33: invalid CIDR block notation"},
		{edit("gw", func(r *network.CreateRequest) {
			r.IPAM.Config = []network.IPAMConfig{{Subnet: "10.9.0.0/24", Gateway: "10.8.0.1"}}
		}), 400, "invalid network config:\ninvalid gateway 10.8.0.1: parent subnet 10.9.0.0/24 doesn't contain this address"},
	}
	for _, tt := range tests {
		_, err := c.CreateNetwork(ctx, tt.req)
		wantErr(t, err, tt.status, tt.text)
	}
	if err := validateIPAMConfig(network.IPAMConfig{Subnet: "10.9.0.0/24", Gateway: "10.8.0.1"}); err == nil ||
		err.Error() != "rpc error: code = InvalidArgument desc = ipam configuration: subnet 10.9.0.0/24 does not contain gateway 10.8.0.1" {
		t.Fatalf("swarmkit gateway check: %v", err)
	}
}

func TestGetNetworksFilters(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCluster(t)
	testID, _ := c.CreateNetwork(ctx, cliNetworkRequest("test"))
	req := cliNetworkRequest("surf_net")
	req.Labels = map[string]string{"demo": "1"}
	if _, err := c.CreateNetwork(ctx, req); err != nil {
		t.Fatal(err)
	}
	addIngress(t, c)

	tests := []struct{ filters, want string }{
		{``, "ingress,surf_net,test"},
		{`{"driver":{"overlay":true},"scope":{"swarm":true}}`, "ingress,surf_net,test"},
		{`{"driver":{"bridge":true}}`, ""},
		{`{"scope":{"local":true}}`, ""},
		{`{"name":{"test":true}}`, "test"},
		{`{"name":["surf_net","test"]}`, "surf_net,test"},
		{`{"name":{"tes":true}}`, ""}, // swarm networks match whole names only
		{`{"id":{"` + testID[:4] + `":true}}`, "test"},
		{`{"label":{"demo=1":true}}`, "surf_net"},
		{`{"label":{"demo":true}}`, "surf_net"},
		{`{"dangling":{"true":true}}`, "ingress,surf_net,test"},
		{`{"dangling":{"false":true}}`, ""},
		{`{"type":{"custom":true}}`, "ingress,surf_net,test"},
		{`{"type":{"builtin":true}}`, ""},
		{`{"idOrName":{"test":true}}`, "ingress,surf_net,test"},
	}
	for _, tt := range tests {
		list, err := c.GetNetworks(ctx, filterArgs(t, tt.filters))
		if err != nil {
			t.Fatalf("%s: %v", tt.filters, err)
		}
		var names []string
		for _, n := range list {
			names = append(names, n.Name)
		}
		if got := sortedJoin(names); got != tt.want {
			t.Errorf("filters %s: got %q, want %q", tt.filters, got, tt.want)
		}
	}
	for filter, text := range map[string]string{
		`{"colour":{"x":true}}`:            "invalid filter 'colour'",
		`{"dangling":{"maybe":true}}`:      `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`,
		`{"dangling":{"1":true,"0":true}}`: `got more than one value for filter key "dangling"`,
		`{"type":{"special":true}}`:        "invalid filter: 'type'='special'",
	} {
		_, err := c.GetNetworks(ctx, filterArgs(t, filter))
		wantErr(t, err, 400, text)
	}
	_, err := c.GetNetwork(ctx, "nope")
	wantErr(t, err, 404, "network nope not found")
}

func TestRemoveNetwork(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCluster(t)
	ingressID := addIngress(t, c)
	netID, err := c.CreateNetwork(ctx, cliNetworkRequest("back"))
	if err != nil {
		t.Fatal(err)
	}
	spec := simpleSpec("web")
	spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "back"}}
	spec.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{TargetPort: 80, PublishedPort: 8080}}}
	svcID := mustCreateService(t, c, spec)

	wantErr(t, c.RemoveNetwork(ctx, "back"), 400,
		"rpc error: code = FailedPrecondition desc = network "+netID+" is in use by service "+svcID)
	wantErr(t, c.RemoveNetwork(ctx, "ingress"), 400,
		"rpc error: code = FailedPrecondition desc = ingress network cannot be removed because service "+svcID+" depends on it")

	// Removing the service tells its tasks to go in the same write: the network is free at once.
	// A task of no service (a container's attachment) that still runs on it keeps it.
	tk := &store.Task{}
	tk.ID = "task1"
	tk.Status.State, tk.DesiredState = swarm.TaskStateRunning, swarm.TaskStateRunning
	tk.NetworksAttachments = []swarm.NetworkAttachment{{Network: swarm.Network{ID: netID}}}
	put(t, st, tk)
	ofService := &store.Task{}
	ofService.ID, ofService.ServiceID = "task2", svcID
	ofService.Status.State, ofService.DesiredState = swarm.TaskStateRunning, swarm.TaskStateRunning
	ofService.NetworksAttachments = tk.NetworksAttachments
	put(t, st, ofService)
	if err := c.RemoveService(ctx, svcID); err != nil {
		t.Fatal(err)
	}
	st.View(func(tx store.ReadTx) {
		if got := tx.GetTask("task2").DesiredState; got != swarm.TaskStateRemove {
			t.Errorf("task of the removed service desired %s, want remove", got)
		}
	})
	wantErr(t, c.RemoveNetwork(ctx, netID), 400,
		"rpc error: code = FailedPrecondition desc = network "+netID+" is in use by task task1")
	err = st.Update(ctx, func(tx store.Tx) error {
		done := tx.GetTask("task1").Copy()
		done.Status.State = swarm.TaskStateShutdown
		return tx.Update(done)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveNetwork(ctx, netID[:6]); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveNetwork(ctx, ingressID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.RemoveNetwork(ctx, "back"), 404, "network back not found")
	list, _ := c.GetNetworks(ctx, filterArgs(t, ``))
	if len(list) != 0 {
		t.Fatalf("networks left: %d", len(list))
	}
}

func TestServiceNetworkTargets(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCluster(t)
	id, _ := c.CreateNetwork(ctx, cliNetworkRequest("back"))
	for _, ref := range []string{"back", id, id[:7]} {
		spec := simpleSpec("web")
		spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: ref}}
		svc := mustCreateService(t, c, spec)
		if got := mustGetService(t, c, svc).Spec.TaskTemplate.Networks[0].Target; got != id {
			t.Fatalf("target %q stored as %q, want %q", ref, got, id)
		}
		if err := c.RemoveService(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}
	spec := simpleSpec("web")
	spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "bridge"}}
	_, err := c.CreateService(ctx, spec, "", false)
	wantErr(t, err, 404, "could not find the corresponding predefined swarm network: network bridge not found")
}
