package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

var now = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

type nodeOpt func(*store.Node)

func node(id string, opts ...nodeOpt) *store.Node {
	n := &store.Node{}
	n.ID = id
	n.Spec.Role = swarm.NodeRoleWorker
	n.Spec.Availability = swarm.NodeAvailabilityActive
	n.Status.State = swarm.NodeStateReady
	n.Description.Hostname = "host-" + id
	n.Description.Platform = swarm.Platform{OS: "linux", Architecture: "x86_64"}
	n.Description.Resources = swarm.Resources{NanoCPUs: 4e9, MemoryBytes: 8 << 30}
	for _, o := range opts {
		o(n)
	}
	return n
}

func avail(a swarm.NodeAvailability) nodeOpt { return func(n *store.Node) { n.Spec.Availability = a } }
func state(s swarm.NodeState) nodeOpt        { return func(n *store.Node) { n.Status.State = s } }
func cpus(c int64) nodeOpt                   { return func(n *store.Node) { n.Description.Resources.NanoCPUs = c * 1e9 } }
func label(k, v string) nodeOpt {
	return func(n *store.Node) {
		if n.Spec.Labels == nil {
			n.Spec.Labels = map[string]string{}
		}
		n.Spec.Labels[k] = v
	}
}

type taskOpt func(*store.Task)

func task(id, service string, slot int, opts ...taskOpt) *store.Task {
	t := &store.Task{}
	t.ID = id
	t.ServiceID = service
	t.Slot = slot
	t.SpecVersion = 1
	t.DesiredState = swarm.TaskStateRunning
	t.Status = swarm.TaskStatus{State: swarm.TaskStatePending, Message: "pending task scheduling"}
	t.Spec.ContainerSpec = &swarm.ContainerSpec{Image: "busybox"}
	for _, o := range opts {
		o(t)
	}
	return t
}

func on(nodeID string, st swarm.TaskState) taskOpt {
	return func(t *store.Task) { t.NodeID = nodeID; t.Status.State = st }
}
func reserveCPU(c int64) taskOpt {
	return func(t *store.Task) {
		t.Spec.Resources = &swarm.ResourceRequirements{Reservations: &swarm.Resources{NanoCPUs: c * 1e9}}
	}
}
func placement(p swarm.Placement) taskOpt { return func(t *store.Task) { t.Spec.Placement = &p } }
func desired(s swarm.TaskState) taskOpt   { return func(t *store.Task) { t.DesiredState = s } }
func errText(e string) taskOpt            { return func(t *store.Task) { t.Status.Err = e } }

func service(id string, ports ...swarm.PortConfig) *store.Service {
	s := &store.Service{}
	s.ID = id
	s.Spec.Name = id
	if len(ports) > 0 {
		s.Spec.EndpointSpec = &swarm.EndpointSpec{Ports: ports}
		s.Endpoint.Ports = ports
	}
	return s
}

// outcome is what happened to one task: "node:<id>", "err:<text>", or a state name.
func outcomes(out []*store.Task) map[string]string {
	m := map[string]string{}
	for _, t := range out {
		switch {
		case t.Status.State == swarm.TaskStateAssigned:
			m[t.ID] = "node:" + t.NodeID
		case t.Status.Err != "":
			m[t.ID] = "err:" + t.Status.Err
		default:
			m[t.ID] = string(t.Status.State)
		}
	}
	return m
}

func TestSchedule(t *testing.T) {
	hostPort := swarm.PortConfig{Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: swarm.PortConfigPublishModeHost}
	tests := []struct {
		name     string
		nodes    []*store.Node
		tasks    []*store.Task
		services []*store.Service
		want     map[string]string
	}{
		{
			name:  "three replicas spread over three nodes",
			nodes: []*store.Node{node("a"), node("b"), node("c")},
			tasks: []*store.Task{task("t1", "s", 1), task("t2", "s", 2), task("t3", "s", 3)},
			want:  map[string]string{"t1": "node:a", "t2": "node:b", "t3": "node:c"},
		},
		{
			name:  "no nodes at all",
			tasks: []*store.Task{task("t1", "s", 1)},
			want:  map[string]string{"t1": "err:no suitable node"},
		},
		{
			name:  "the only node is drained",
			nodes: []*store.Node{node("a", avail(swarm.NodeAvailabilityDrain))},
			tasks: []*store.Task{task("t1", "s", 1), task("t2", "s", 2)},
			want: map[string]string{
				"t1": "err:no suitable node (1 node not available for new tasks)",
				"t2": "err:no suitable node (1 node not available for new tasks)",
			},
		},
		{
			name:  "paused and down nodes take nothing",
			nodes: []*store.Node{node("a", avail(swarm.NodeAvailabilityPause)), node("b", state(swarm.NodeStateDown))},
			tasks: []*store.Task{task("t1", "s", 1)},
			want:  map[string]string{"t1": "err:no suitable node (2 nodes not available for new tasks)"},
		},
		{
			name:  "reservation larger than the node",
			nodes: []*store.Node{node("a", cpus(1))},
			tasks: []*store.Task{task("t1", "s", 1, reserveCPU(2))},
			want:  map[string]string{"t1": "err:no suitable node (insufficient resources on 1 node)"},
		},
		{
			name:  "nodes fill up, the last task waits",
			nodes: []*store.Node{node("a", cpus(1)), node("b", cpus(1))},
			tasks: []*store.Task{task("t1", "s", 1, reserveCPU(1)), task("t2", "s", 2, reserveCPU(1)), task("t3", "s", 3, reserveCPU(1))},
			want: map[string]string{"t1": "node:a", "t2": "node:b",
				"t3": "err:no suitable node (insufficient resources on 2 nodes)"},
		},
		{
			name:  "reservations of tasks already on the node count",
			nodes: []*store.Node{node("a", cpus(2)), node("b", cpus(2))},
			tasks: []*store.Task{
				task("old", "other", 1, reserveCPU(2), on("a", swarm.TaskStateRunning)),
				task("t1", "s", 1, reserveCPU(2)),
			},
			want: map[string]string{"t1": "node:b"},
		},
		{
			name:  "constraints and readiness explained, most frequent first",
			nodes: []*store.Node{node("a"), node("b"), node("c", state(swarm.NodeStateDown))},
			tasks: []*store.Task{task("t1", "s", 1, placement(swarm.Placement{Constraints: []string{"node.role==manager"}}))},
			want:  map[string]string{"t1": "err:no suitable node (scheduling constraints not satisfied on 2 nodes; 1 node not available for new tasks)"},
		},
		{
			name:  "constraint picks the labelled node",
			nodes: []*store.Node{node("a"), node("b", label("disk", "ssd"))},
			tasks: []*store.Task{task("t1", "s", 1, placement(swarm.Placement{Constraints: []string{"node.labels.disk==ssd"}})),
				task("t2", "s", 2, placement(swarm.Placement{Constraints: []string{"node.labels.disk==ssd"}}))},
			want: map[string]string{"t1": "node:b", "t2": "node:b"},
		},
		{
			name:  "platform",
			nodes: []*store.Node{node("a")},
			tasks: []*store.Task{task("t1", "s", 1, placement(swarm.Placement{Platforms: []swarm.Platform{{OS: "windows", Architecture: "amd64"}}})),
				task("t2", "s2", 1, placement(swarm.Placement{Platforms: []swarm.Platform{{OS: "linux", Architecture: "amd64"}}}))},
			want: map[string]string{"t1": "err:no suitable node (unsupported platform on 1 node)", "t2": "node:a"},
		},
		{
			name:  "spread counts the service's tasks already placed",
			nodes: []*store.Node{node("a"), node("b")},
			tasks: []*store.Task{
				task("r1", "s", 1, on("a", swarm.TaskStateRunning)),
				task("r2", "s", 2, on("a", swarm.TaskStateRunning)),
				task("t3", "s", 3), task("t4", "s", 4), task("t5", "s", 5),
			},
			want: map[string]string{"t3": "node:b", "t4": "node:b", "t5": "node:a"},
		},
		{
			name:  "ties broken by total tasks on the node",
			nodes: []*store.Node{node("a"), node("b")},
			tasks: []*store.Task{
				task("x1", "other", 1, on("a", swarm.TaskStateRunning)),
				task("t1", "s", 1),
			},
			want: map[string]string{"t1": "node:b"},
		},
		{
			name: "placement preference spreads over label values",
			nodes: []*store.Node{node("a", label("zone", "east")), node("b", label("zone", "east")),
				node("c", label("zone", "west"))},
			tasks: []*store.Task{
				task("t1", "s", 1, placement(swarm.Placement{Preferences: []swarm.PlacementPreference{{Spread: &swarm.SpreadOver{SpreadDescriptor: "node.labels.zone"}}}})),
				task("t2", "s", 2, placement(swarm.Placement{Preferences: []swarm.PlacementPreference{{Spread: &swarm.SpreadOver{SpreadDescriptor: "node.labels.zone"}}}})),
				task("t3", "s", 3, placement(swarm.Placement{Preferences: []swarm.PlacementPreference{{Spread: &swarm.SpreadOver{SpreadDescriptor: "node.labels.zone"}}}})),
				task("t4", "s", 4, placement(swarm.Placement{Preferences: []swarm.PlacementPreference{{Spread: &swarm.SpreadOver{SpreadDescriptor: "node.labels.zone"}}}})),
			},
			want: map[string]string{"t1": "node:a", "t2": "node:c", "t3": "node:b", "t4": "node:c"},
		},
		{
			name:     "host-mode port taken on the only node",
			nodes:    []*store.Node{node("a")},
			tasks:    []*store.Task{task("t1", "s", 1), task("t2", "s", 2)},
			services: []*store.Service{service("s", hostPort)},
			want:     map[string]string{"t1": "node:a", "t2": "err:no suitable node (host-mode port already in use on 1 node)"},
		},
		{
			name:  "max replicas per node",
			nodes: []*store.Node{node("a"), node("b")},
			tasks: []*store.Task{task("t1", "s", 1, placement(swarm.Placement{MaxReplicas: 1})),
				task("t2", "s", 2, placement(swarm.Placement{MaxReplicas: 1})),
				task("t3", "s", 3, placement(swarm.Placement{MaxReplicas: 1}))},
			want: map[string]string{"t1": "node:a", "t2": "node:b", "t3": "err:no suitable node (max replicas per node limit exceed)"},
		},
		{
			name:  "an unchanged reason is not rewritten",
			nodes: []*store.Node{node("a", avail(swarm.NodeAvailabilityDrain))},
			tasks: []*store.Task{task("t1", "s", 1, errText("no suitable node (1 node not available for new tasks)"))},
			want:  map[string]string{},
		},
		{
			name:  "pending task no longer wanted is shut down",
			nodes: []*store.Node{node("a")},
			tasks: []*store.Task{task("t1", "s", 1, desired(swarm.TaskStateShutdown))},
			want:  map[string]string{"t1": "shutdown"},
		},
		{
			name:  "preassigned task no longer wanted is shut down too",
			nodes: []*store.Node{node("a", avail(swarm.NodeAvailabilityDrain))},
			tasks: []*store.Task{task("g1", "g", 0, desired(swarm.TaskStateShutdown), func(t *store.Task) { t.NodeID = "a" })},
			want:  map[string]string{"g1": "shutdown"},
		},
		{
			name:  "preassigned global task confirmed on its node",
			nodes: []*store.Node{node("a"), node("b")},
			tasks: []*store.Task{task("g1", "g", 0, func(t *store.Task) { t.NodeID = "b" })},
			want:  map[string]string{"g1": "node:b"},
		},
		{
			name:  "preassigned global task that does not fit its node",
			nodes: []*store.Node{node("a", cpus(1))},
			tasks: []*store.Task{task("g1", "g", 0, reserveCPU(2), func(t *store.Task) { t.NodeID = "a" })},
			want:  map[string]string{"g1": "err:insufficient resources on 1 node"},
		},
		{
			name:  "tasks not pending are left alone",
			nodes: []*store.Node{node("a")},
			tasks: []*store.Task{task("n1", "s", 1, func(t *store.Task) { t.Status.State = swarm.TaskStateNew }),
				task("r1", "s", 2, on("a", swarm.TaskStateRunning))},
			want: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Schedule(Input{Nodes: tt.nodes, Tasks: tt.tasks, Services: tt.services, Now: now})
			got := outcomes(out)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
			for _, nt := range out {
				if nt.Status.State == swarm.TaskStateAssigned {
					if nt.Status.Message != MessageAssigned && nt.Status.Message != MessageConfirmed {
						t.Errorf("task %s message %q", nt.ID, nt.Status.Message)
					}
					if !nt.Status.Timestamp.Equal(now) {
						t.Errorf("task %s timestamp %v, want %v", nt.ID, nt.Status.Timestamp, now)
					}
				}
			}
			// Schedule must not change its inputs.
			for _, in := range tt.tasks {
				if in.Status.State == swarm.TaskStateAssigned && in.NodeID == "" {
					t.Errorf("input task %s was modified", in.ID)
				}
			}
		})
	}
}

func TestScheduleAvoidsNodeWhereServiceKeepsFailing(t *testing.T) {
	var tasks []*store.Task
	for i := 0; i < maxFailures; i++ {
		tasks = append(tasks, task(fmt.Sprintf("f%d", i), "s", 1, on("a", swarm.TaskStateFailed),
			func(t *store.Task) {
				t.Status.Timestamp = now.Add(-time.Minute)
				t.DesiredState = swarm.TaskStateShutdown
			}))
	}
	// b is busier with another service, but a keeps failing this one.
	tasks = append(tasks, task("o1", "other", 1, on("b", swarm.TaskStateRunning)), task("t1", "s", 1))
	out := Schedule(Input{Nodes: []*store.Node{node("a"), node("b")}, Tasks: tasks, Now: now})
	if got := outcomes(out)["t1"]; got != "node:b" {
		t.Fatalf("t1 = %s, want node:b", got)
	}
	// Old failures do not count.
	for _, ft := range tasks[:maxFailures] {
		ft.Status.Timestamp = now.Add(-time.Hour)
	}
	out = Schedule(Input{Nodes: []*store.Node{node("a"), node("b")}, Tasks: tasks, Now: now})
	if got := outcomes(out)["t1"]; got != "node:a" {
		t.Fatalf("t1 = %s, want node:a once failures are old", got)
	}
}

// TestMissingPlugin: a task whose log or volume driver no node has stays pending with swarmkit's
// reason; the drivers a node reports are found.
func TestMissingPlugin(t *testing.T) {
	n := node("n1")
	n.Description.Engine.Plugins = []swarm.PluginDescription{{Type: "Log", Name: "json-file"}, {Type: "Volume", Name: "local"}}
	cases := []struct {
		name   string
		task   func(*store.Task)
		placed bool
	}{
		{"json-file", func(tk *store.Task) { tk.Spec.LogDriver = &swarm.Driver{Name: "json-file"} }, true},
		{"none", func(tk *store.Task) { tk.Spec.LogDriver = &swarm.Driver{Name: "none"} }, true},
		{"unknown log driver", func(tk *store.Task) { tk.Spec.LogDriver = &swarm.Driver{Name: "foo"} }, false},
		{"unknown volume driver", func(tk *store.Task) {
			tk.Spec.ContainerSpec.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: "v", Target: "/v",
				VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "rexray"}}}}
		}, false},
	}
	for _, c := range cases {
		tk := task("t1", "svc", 1, c.task)
		out := Schedule(Input{Nodes: []*store.Node{n}, Tasks: []*store.Task{tk}, Services: []*store.Service{service("svc")}, Now: now})
		if len(out) != 1 {
			t.Fatalf("%s: %d decisions", c.name, len(out))
		}
		if placed := out[0].NodeID == "n1"; placed != c.placed {
			t.Errorf("%s: placed %v (%s)", c.name, placed, out[0].Status.Err)
		}
		if !c.placed && out[0].Status.Err != "no suitable node (missing plugin on 1 node)" {
			t.Errorf("%s: reason %q", c.name, out[0].Status.Err)
		}
	}
}
