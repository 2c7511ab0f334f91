package orchestrator

import (
	"time"

	"testing"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

func TestGlobalOneTaskPerNode(t *testing.T) {
	w := newWorld(t, globalService("agent"), mkNode("a"))
	out := w.reconcile()
	if len(out.Create) != 1 || out.Create[0].NodeID != "a" || out.Create[0].Slot != 0 {
		t.Fatalf("one node: %+v", out.Create)
	}
	w.cycle()

	w.nodes = append(w.nodes, mkNode("b"), mkNode("c"))
	w.cycle()
	got := w.running()
	if len(got) != 3 || got["a"] != 1 || got["b"] != 1 || got["c"] != 1 {
		t.Fatalf("three nodes: running = %v", got)
	}
	if out := w.reconcile(); !out.Empty() {
		t.Fatalf("not settled: %+v", out)
	}
}

func TestGlobalNodeAvailability(t *testing.T) {
	w := newWorld(t, globalService("agent"), mkNode("a"), mkNode("b"), mkNode("c"))
	w.cycle()

	// Drain a: its task stops and is not replaced. Pause b: its task stays.
	w.setNode("a", drained)
	w.setNode("b", paused)
	out := w.reconcile()
	if len(out.Create) != 0 || len(out.Update) != 1 || out.Update[0].NodeID != "a" || out.Update[0].DesiredState != swarm.TaskStateShutdown {
		t.Fatalf("drain a, pause b: creates %d updates %+v", len(out.Create), out.Update)
	}
	w.cycle()
	if got := w.running(); got["a"] != 0 || got["b"] != 1 || got["c"] != 1 {
		t.Fatalf("running = %v", got)
	}

	// A new paused node gets nothing; a node back to active gets a new task.
	w.nodes = append(w.nodes, mkNode("d", paused))
	w.setNode("a", func(n *store.Node) { n.Spec.Availability = swarm.NodeAvailabilityActive })
	w.cycle()
	if got := w.running(); got["a"] != 1 || got["d"] != 0 {
		t.Fatalf("after reactivating a: running = %v", got)
	}

	// A node that goes down loses its task; a deleted node too.
	w.setNode("c", down)
	w.nodes = w.nodes[:2] // drop c and d
	w.cycle()
	if got := w.running(); len(got) != 2 || got["a"] != 1 || got["b"] != 1 {
		t.Fatalf("after c went away: running = %v", got)
	}
}

func TestGlobalConstraints(t *testing.T) {
	svc := globalService("agent")
	svc.Spec.TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.labels.gpu==yes"}}
	gpu := func(n *store.Node) { n.Spec.Labels = map[string]string{"gpu": "yes"} }
	w := newWorld(t, svc, mkNode("a", gpu), mkNode("b"), mkNode("c", gpu))
	w.cycle()
	if got := w.running(); len(got) != 2 || got["a"] != 1 || got["c"] != 1 {
		t.Fatalf("running = %v", got)
	}
	// The label goes away from c: its task stops.
	w.setNode("c", func(n *store.Node) { n.Spec.Labels = nil })
	w.cycle()
	if got := w.running(); len(got) != 1 || got["a"] != 1 {
		t.Fatalf("after relabel: running = %v", got)
	}
}

func TestGlobalRestartOnSameNode(t *testing.T) {
	w := newWorld(t, withPolicy(globalService("agent"), swarm.RestartPolicy{Delay: ptr(time.Duration(0))}), mkNode("a"))
	w.cycle()
	for _, tk := range w.list() {
		w.setState(tk, swarm.TaskStateFailed)
	}
	out := w.reconcile()
	if len(out.Create) != 1 || out.Create[0].NodeID != "a" || out.Create[0].DesiredState != swarm.TaskStateRunning {
		t.Fatalf("restart: %+v", out.Create)
	}
}
