package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestGoSDK drives services, tasks, nodes and networks through the Docker Go SDK.
func TestGoSDK(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})
	reg := harness.StartRegistry(t)
	imgs := harness.PushImages(t, reg)
	cli := d.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	if _, err := cli.SwarmInspect(ctx); !errdefs.IsUnavailable(err) {
		t.Fatalf("inspect before init: %v, want an Unavailable error", err)
	}
	nodeID, err := cli.SwarmInit(ctx, swarm.InitRequest{ListenAddr: "0.0.0.0:2377", AdvertiseAddr: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := cli.SwarmInspect(ctx)
	if err != nil || !strings.HasPrefix(sw.JoinTokens.Worker, "SWMTKN-1-") || sw.Spec.Orchestration.TaskHistoryRetentionLimit == nil {
		t.Fatalf("swarm inspect: %+v %v", sw, err)
	}

	// nodes
	nodes, err := cli.NodeList(ctx, swarm.NodeListOptions{Filters: filters.NewArgs(filters.Arg("role", "manager"))})
	if err != nil || len(nodes) != 1 || nodes[0].ID != nodeID || nodes[0].ManagerStatus == nil || !nodes[0].ManagerStatus.Leader {
		t.Fatalf("node list: %+v %v", nodes, err)
	}
	if _, err := cli.NodeList(ctx, swarm.NodeListOptions{Filters: filters.NewArgs(filters.Arg("bogus", "x"))}); !errdefs.IsInvalidParameter(err) {
		t.Errorf("bad node filter: %v", err)
	}
	// right after init the allocator gives the node its ingress address, a write that may come
	// between an inspect and an update: an update with the version just read succeeds within a few
	// tries
	var n swarm.Node
	harness.Eventually(t, 10*time.Second, func() (bool, string) {
		var err error
		if n, _, err = cli.NodeInspectWithRaw(ctx, nodeID); err != nil {
			return false, err.Error()
		}
		n.Spec.Labels = map[string]string{"disk": "ssd"}
		err = cli.NodeUpdate(ctx, nodeID, n.Version, n.Spec)
		return err == nil, fmt.Sprint(err)
	})
	if err := cli.NodeUpdate(ctx, nodeID, n.Version, n.Spec); err == nil || !strings.Contains(err.Error(), "update out of sequence") {
		t.Errorf("stale node update: %v", err)
	}
	n.Spec.Role = swarm.NodeRoleWorker
	n2, _, _ := cli.NodeInspectWithRaw(ctx, nodeID)
	if err := cli.NodeUpdate(ctx, nodeID, n2.Version, n.Spec); err == nil || !strings.Contains(err.Error(), "attempting to demote the last manager of the swarm") {
		t.Errorf("demote last manager: %v", err)
	}

	// networks
	created, err := cli.NetworkCreate(ctx, "sdknet", network.CreateOptions{Driver: "overlay", Attachable: true, Labels: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	nw, err := cli.NetworkInspect(ctx, "sdknet", network.InspectOptions{})
	if err != nil || nw.ID != created.ID || nw.Scope != "swarm" || !nw.Attachable || nw.Labels["a"] != "b" {
		t.Fatalf("network inspect: %+v %v", nw, err)
	}
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		nw, _ := cli.NetworkInspect(ctx, "sdknet", network.InspectOptions{})
		return len(nw.IPAM.Config) == 1 && nw.IPAM.Config[0].Subnet != "", "IPAM not allocated yet"
	})
	list, err := cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("driver", "overlay"))})
	if err != nil || len(list) != 2 { // sdknet and ingress
		t.Fatalf("overlay networks: %d %v", len(list), err)
	}

	// services and tasks
	replicas := uint64(2)
	spec := swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "sdkweb", Labels: map[string]string{"tier": "web"}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: imgs["sleeper:1"]}, Networks: []swarm.NetworkAttachmentConfig{{Target: "sdknet"}}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
	}
	resp, err := cli.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); !errdefs.IsConflict(err) {
		t.Errorf("duplicate service: %v", err)
	}
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		tasks, err := cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", "sdkweb"), filters.Arg("desired-state", "running"))})
		running := 0
		for _, tk := range tasks {
			if tk.Status.State == swarm.TaskStateRunning {
				running++
			}
		}
		return err == nil && running == 2, "running tasks: " + strconv.Itoa(running)
	})
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Status: true, Filters: filters.NewArgs(filters.Arg("label", "tier=web"))})
	if err != nil || len(svcs) != 1 || svcs[0].ServiceStatus == nil || svcs[0].ServiceStatus.RunningTasks != 2 || svcs[0].ServiceStatus.DesiredTasks != 2 {
		t.Fatalf("service list with status: %+v %v", svcs, err)
	}
	svc, _, err := cli.ServiceInspectWithRaw(ctx, resp.ID, swarm.ServiceInspectOptions{InsertDefaults: true})
	if err != nil || svc.Spec.TaskTemplate.RestartPolicy == nil || svc.Spec.UpdateConfig == nil {
		t.Fatalf("inspect with defaults: %+v %v", svc.Spec, err)
	}
	if len(svc.Endpoint.VirtualIPs) == 0 {
		t.Errorf("service on an overlay network has no VIP: %+v", svc.Endpoint)
	}
	tasks, err := cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", resp.ID))})
	if err != nil || len(tasks) < 2 {
		t.Fatalf("task list: %d %v", len(tasks), err)
	}
	tk, _, err := cli.TaskInspectWithRaw(ctx, tasks[0].ID)
	if err != nil || tk.ServiceID != resp.ID || len(tk.NetworksAttachments) == 0 {
		t.Fatalf("task inspect: %+v %v", tk, err)
	}
	// scale to zero, then remove
	svc, _, _ = cli.ServiceInspectWithRaw(ctx, resp.ID, swarm.ServiceInspectOptions{})
	zero := uint64(0)
	svc.Spec.Mode.Replicated.Replicas = &zero
	if _, err := cli.ServiceUpdate(ctx, resp.ID, svc.Version, svc.Spec, swarm.ServiceUpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ServiceUpdate(ctx, resp.ID, svc.Version, svc.Spec, swarm.ServiceUpdateOptions{}); err == nil {
		t.Error("stale service update succeeded")
	}
	if err := cli.NetworkRemove(ctx, "sdknet"); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("network remove while in use: %v", err)
	}
	if err := cli.ServiceRemove(ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli.ServiceInspectWithRaw(ctx, resp.ID, swarm.ServiceInspectOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("inspect removed service: %v", err)
	}
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		err := cli.NetworkRemove(ctx, "sdknet")
		return err == nil, "network remove: " + errString(err)
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
