package dispatcher

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/netview"
	"github.com/shoal-project/shoal/swarm/store"
)

// nextView waits for a view that satisfies ok, up to a deadline.
func nextView(t *testing.T, s *Session, what string, ok func(netview.NodeView) bool) netview.NodeView {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case v := <-s.Networks():
			if ok(v) {
				return v
			}
		case <-deadline:
			t.Fatalf("no view with %s", what)
		}
	}
}

func endpointIDs(v netview.NodeView, netID string) []string {
	for _, n := range v.Networks {
		if n.ID == netID {
			ids := []string{}
			for _, e := range n.Endpoints {
				ids = append(ids, e.TaskID)
			}
			return ids
		}
	}
	return nil
}

func TestSessionNetworks(t *testing.T) {
	ctx := context.Background()
	st := store.New(nil)
	web := &store.Service{}
	web.ID, web.Spec.Name = "s-web", "web"
	web.Spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: "net1"}}
	web.Endpoint.VirtualIPs = []swarm.EndpointVirtualIP{{NetworkID: "net1", Addr: "10.0.1.2/24"}}
	run := swarm.TaskStateRunning
	objs := []store.Object{overlayNet("net1", "front", "10.0.1.0/24", "10.0.1.1", 4097), web,
		netNode("n1", "198.18.0.1", ""), netNode("n2", "198.18.0.2", ""),
		netTask("t1", web, 1, "n1", run, run, att{"net1", "10.0.1.3/24"})}
	err := st.Update(ctx, func(tx store.Tx) error {
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
	d := New(st, nil)
	d.net.debounce = 5 * time.Millisecond
	s, err := d.Open(ctx, "n1", "198.18.0.1", swarm.NodeDescription{Hostname: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// The first view is there when Open returns.
	var first netview.NodeView
	select {
	case first = <-s.Networks():
	default:
		t.Fatal("no view at session start")
	}
	if ids := endpointIDs(first, "net1"); len(ids) != 1 || ids[0] != "t1" {
		t.Fatalf("first view endpoints %v, want [t1]", ids)
	}

	// A task of another node on the same network shows up as an endpoint.
	err = st.Update(ctx, func(tx store.Tx) error {
		return tx.Create(netTask("t2", web, 2, "n2", run, run, att{"net1", "10.0.1.4/24"}))
	})
	if err != nil {
		t.Fatal(err)
	}
	v := nextView(t, s, "t2 as an endpoint", func(v netview.NodeView) bool { return len(endpointIDs(v, "net1")) == 2 })
	if e := v.Networks[0].Endpoints[1]; e.VTEP != "198.18.0.2" || e.IP != "10.0.1.4" || !e.Running {
		t.Fatalf("t2 endpoint %+v", e)
	}

	// The node's own task fails: the network leaves its view.
	err = st.Update(ctx, func(tx store.Tx) error {
		tk := tx.GetTask("t1").Copy()
		tk.Status.State = swarm.TaskStateFailed
		return tx.Update(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	nextView(t, s, "no network", func(v netview.NodeView) bool { return v.Networks != nil && len(v.Networks) == 0 })

	// The view last sent is not sent again.
	var last netview.NodeView
	st.View(func(tx store.ReadTx) { last = NodeNetworks(tx, "n1") })
	s.sendNetworks(last)
	select {
	case v := <-s.Networks():
		t.Fatalf("the same view was sent again: %+v", v)
	default:
	}

	// The feed runs while a session is open.
	s.Close()
	d.mu.Lock()
	running := d.net.stop != nil
	d.mu.Unlock()
	if running {
		t.Fatal("network feed still runs with no session open")
	}
}

// TestNetRelevant: task status reports that the views cannot see cost no recomputation.
func TestNetRelevant(t *testing.T) {
	web := &store.Service{}
	web.ID, web.Spec.Name = "s-web", "web"
	task := func(state, desired swarm.TaskState, node string) *store.Task {
		return netTask("t", web, 1, node, state, desired, att{"net1", "10.0.1.3/24"})
	}
	run, shut := swarm.TaskStateRunning, swarm.TaskStateShutdown
	tests := []struct {
		name string
		ev   store.Event
		want bool
	}{
		{"new task", store.Event{Action: store.Create, Object: task(swarm.TaskStateNew, run, "")}, false},
		{"pending to assigned", store.Event{Action: store.Update, Old: task(swarm.TaskStatePending, run, ""), Object: task(swarm.TaskStateAssigned, run, "n1")}, true},
		{"preparing to starting", store.Event{Action: store.Update, Old: task(swarm.TaskStatePreparing, run, "n1"), Object: task(swarm.TaskStateStarting, run, "n1")}, false},
		{"starting to running", store.Event{Action: store.Update, Old: task(swarm.TaskStateStarting, run, "n1"), Object: task(run, run, "n1")}, true},
		{"desired shutdown", store.Event{Action: store.Update, Old: task(run, run, "n1"), Object: task(run, shut, "n1")}, true},
		{"failed to failed", store.Event{Action: store.Update, Old: task(swarm.TaskStateFailed, shut, "n1"), Object: task(swarm.TaskStateFailed, shut, "n1")}, false},
		{"running task deleted", store.Event{Action: store.Delete, Object: task(run, run, "n1")}, true},
		{"dead task deleted", store.Event{Action: store.Delete, Object: task(swarm.TaskStateShutdown, shut, "n1")}, false},
		{"node status", store.Event{Action: store.Update, Old: netNode("n1", "198.18.0.1", ""), Object: netNode("n1", "198.18.0.1", "")}, false},
		{"node address", store.Event{Action: store.Update, Old: netNode("n1", "198.18.0.1", ""), Object: netNode("n1", "198.18.0.9", "")}, true},
		{"node ingress address", store.Event{Action: store.Update, Old: netNode("n1", "198.18.0.1", ""), Object: netNode("n1", "198.18.0.1", "10.0.0.3/24")}, true},
		{"service", store.Event{Action: store.Update, Old: web, Object: web}, true},
		{"secret", store.Event{Action: store.Create, Object: &store.Secret{}}, false},
	}
	for _, tt := range tests {
		if got := netRelevant(tt.ev); got != tt.want {
			t.Errorf("%s: relevant = %v, want %v", tt.name, got, tt.want)
		}
	}
}
