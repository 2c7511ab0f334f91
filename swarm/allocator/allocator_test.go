package allocator

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/shoal-project/shoal/swarm/store"
)

// waitNodes waits, up to a deadline, until the nodes' ingress addresses satisfy ok.
func waitNodes(t *testing.T, st *store.Store, what string, ok func(map[string]string) bool) map[string]string {
	t.Helper()
	events, cancel := st.Watch()
	defer cancel()
	deadline := time.After(10 * time.Second)
	for {
		addrs := map[string]string{}
		st.View(func(tx store.ReadTx) {
			for _, n := range tx.ListNodes() {
				addrs[n.ID] = n.IngressAddr
			}
		})
		if ok(addrs) {
			return addrs
		}
		select {
		case <-events:
		case <-deadline:
			t.Fatalf("nodes never had %s: %v", what, addrs)
		}
	}
}

// TestAllocatorNodeIngressAddrs runs the shell over a store: nodes get an address once the ingress
// network is allocated, keep it across an allocator restart, and lose it with the ingress network.
func TestAllocatorNodeIngressAddrs(t *testing.T) {
	ctx := context.Background()
	st := store.New(nil)
	create := func(objs ...store.Object) {
		t.Helper()
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
	}
	start := func() (stop func()) {
		c, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- New(st, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithClock(func() time.Time { return now })).Run(c)
		}()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("allocator: %v", err)
			}
		}
	}
	create(node("n1", ""), network("ing", "ingress", ingressNet))
	stop := start()
	waitNodes(t, st, "n1 on the ingress subnet", func(a map[string]string) bool { return a["n1"] == "10.0.0.2/24" })
	create(node("n2", ""))
	first := waitNodes(t, st, "n2's address", func(a map[string]string) bool { return a["n2"] != "" })
	if first["n2"] != "10.0.0.3/24" {
		t.Fatalf("n2 = %s, want 10.0.0.3/24", first["n2"])
	}
	stop()

	// A new allocator (a restart, a new leader) keeps what the store holds.
	create(node("n3", ""))
	stop = start()
	defer func() { stop() }()
	got := waitNodes(t, st, "n3's address", func(a map[string]string) bool { return a["n3"] != "" })
	if got["n1"] != first["n1"] || got["n2"] != first["n2"] || got["n3"] != "10.0.0.4/24" {
		t.Fatalf("after restart %v, want n1 n2 kept and n3 10.0.0.4/24", got)
	}

	// The ingress network goes: every address is released.
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.Delete(store.KindNetwork, "ing") }); err != nil {
		t.Fatal(err)
	}
	waitNodes(t, st, "no address", func(a map[string]string) bool { return a["n1"]+a["n2"]+a["n3"] == "" })
}
