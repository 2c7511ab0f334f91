package control

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

func taskFixture(t *testing.T) *Cluster {
	t.Helper()
	c, st := newTestCluster(t)
	svc := func(id, name string, specVersion uint64, labels map[string]string) *store.Service {
		s := &store.Service{SpecVersion: specVersion}
		s.ID = id
		s.Spec = simpleSpec(name)
		s.Spec.Labels = labels
		return s
	}
	node := func(id, host string) *store.Node {
		n := &store.Node{}
		n.ID = id
		n.Description.Hostname = host
		return n
	}
	task := func(id, service, name string, slot int, node string, state, desired swarm.TaskState, specVersion uint64) *store.Task {
		tk := &store.Task{SpecVersion: specVersion, ServiceName: name}
		tk.ID, tk.ServiceID, tk.Slot, tk.NodeID = id, service, slot, node
		tk.Status.State, tk.DesiredState = state, desired
		tk.Spec = swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "bb:1"}, Runtime: swarm.RuntimeContainer}
		return tk
	}
	running, shutdown := swarm.TaskStateRunning, swarm.TaskStateShutdown
	attach := &store.Task{}
	attach.ID, attach.NodeID = "t5attach", "node1"
	attach.Spec = swarm.TaskSpec{NetworkAttachmentSpec: &swarm.NetworkAttachmentSpec{ContainerID: "c1"}}
	attach.Status.State, attach.DesiredState = running, running
	put(t, st,
		svc("svcweb", "web", 2, map[string]string{"com.docker.stack.namespace": "demo"}),
		svc("svcdb", "db", 1, nil),
		node("node1", "host-a"), node("node2", "host-b"),
		task("t1run", "svcweb", "web", 1, "node1", running, running, 2),
		task("t2old", "svcweb", "web", 1, "node1", shutdown, shutdown, 1),
		task("t3run", "svcweb", "web", 2, "node2", running, running, 2),
		task("t4db", "svcdb", "db", 1, "node2", running, running, 1),
		attach,
	)
	return c
}

func taskIDs(list []swarm.Task) string {
	var ids []string
	for _, t := range list {
		ids = append(ids, t.ID)
	}
	return strings.Join(ids, ",")
}

func TestGetTasksFilters(t *testing.T) {
	c := taskFixture(t)
	tests := []struct{ filters, want string }{
		{``, "t1run,t2old,t3run,t4db"},
		{`{"service":{"web":true}}`, "t1run,t2old,t3run"},
		{`{"service":["web"]}`, "t1run,t2old,t3run"},
		{`{"service":{"svcw":true}}`, "t1run,t2old,t3run"},
		{`{"service":{"web":true,"db":true}}`, "t1run,t2old,t3run,t4db"},
		{`{"_up-to-date":{"true":true},"service":{"web":true}}`, "t1run,t3run"},
		{`{"_up-to-date":{"true":true}}`, "t1run,t3run,t4db"},
		{`{"node":{"host-a":true}}`, "t1run,t2old"},
		{`{"node":{"self":true}}`, "t1run,t2old"},
		{`{"node":{"node2":true},"service":{"web":true}}`, "t3run"},
		{`{"desired-state":{"running":true}}`, "t1run,t3run,t4db"},
		{`{"desired-state":{"Shutdown":true}}`, "t2old"},
		{`{"name":{"web.1":true}}`, "t1run,t2old"},
		{`{"name":{"db.1.t4db":true}}`, "t4db"},
		{`{"id":{"t3":true}}`, "t3run"},
		{`{"label":{"com.docker.stack.namespace=demo":true}}`, "t1run,t2old,t3run"},
		{`{"runtime":{"attachment":true}}`, "t5attach"},
	}
	for _, tt := range tests {
		list, err := c.GetTasks(context.Background(), swarm.TaskListOptions{Filters: filterArgs(t, tt.filters)})
		if err != nil {
			t.Fatalf("%s: %v", tt.filters, err)
		}
		if got := taskIDs(list); got != tt.want {
			t.Errorf("filters %s: got %q, want %q", tt.filters, got, tt.want)
		}
	}

	refusals := []struct {
		filters string
		status  int
		text    string
	}{
		{`{"colour":{"red":true}}`, 400, "invalid filter 'colour'"},
		{`{"service":{"nope":true}}`, 404, "service nope not found"},
		{`{"service":{"svc":true}}`, 400, "service svc is ambiguous (2 matches found)"},
		{`{"node":{"host-z":true}}`, 404, "node host-z not found"},
		{`{"desired-state":{"sleeping":true}}`, 500, "Invalid desired-state filter: 'sleeping'"},
	}
	for _, tt := range refusals {
		_, err := c.GetTasks(context.Background(), swarm.TaskListOptions{Filters: filterArgs(t, tt.filters)})
		wantErr(t, err, tt.status, tt.text)
	}
}

func TestGetTask(t *testing.T) {
	c := taskFixture(t)
	for ref, want := range map[string]string{"t1run": "t1run", "web.1.t1run": "t1run", "t4": "t4db", "t5": "t5attach"} {
		got, err := c.GetTask(context.Background(), ref)
		if err != nil || got.ID != want {
			t.Fatalf("GetTask(%q) = %q, %v; want %q", ref, got.ID, err, want)
		}
	}
	got, _ := c.GetTask(context.Background(), "t1run")
	if got.Labels == nil || got.Spec.Runtime != "" {
		t.Fatalf("task view: Labels %v Runtime %q; want {} and no runtime, as Docker shows", got.Labels, got.Spec.Runtime)
	}
	_, err := c.GetTask(context.Background(), "t")
	wantErr(t, err, 400, "task t is ambiguous (5 matches found)")
	_, err = c.GetTask(context.Background(), "web.1.zzz")
	wantErr(t, err, 404, "task web.1.zzz not found")
}
