package raft

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/shoal-project/shoal/swarm/store"
)

func open(t testing.TB, dir string, threshold uint64) (*Node, *store.Store) {
	t.Helper()
	st := store.New(nil)
	n, err := Open(Config{Dir: dir, ID: "node1", Addr: "node1", Bootstrap: true, SnapshotThreshold: threshold,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st)
	if err != nil {
		t.Fatal(err)
	}
	st.SetProposer(n)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		n.Shutdown()
		t.Fatalf("no leader: %v", err)
	}
	return n, st
}

func TestWritesSurviveRestartAndSnapshot(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var ids []string
	for round := 0; round < 3; round++ {
		n, st := open(t, dir, 0)
		var have int
		st.View(func(tx store.ReadTx) { have = len(tx.ListServices()) })
		if have != len(ids) {
			n.Shutdown()
			t.Fatalf("round %d: %d services after restart, want %d", round, have, len(ids))
		}
		svc := &store.Service{}
		svc.ID = store.NewID()
		svc.Spec.Name = "svc" + string(rune('a'+round))
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.Create(svc) }); err != nil {
			n.Shutdown()
			t.Fatal(err)
		}
		ids = append(ids, svc.ID)
		var got *store.Service
		st.View(func(tx store.ReadTx) { got = tx.GetService(svc.ID) })
		if got == nil || got.Version.Index != st.Index() {
			n.Shutdown()
			t.Fatalf("written service %+v, store index %d", got, st.Index())
		}
		// a stale write fails through Raft as it does locally
		stale := got.Copy()
		stale.Version.Index--
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.Update(stale) }); !errors.Is(err, store.ErrSequenceConflict) {
			n.Shutdown()
			t.Fatalf("stale write: %v", err)
		}
		if round == 1 {
			if err := n.Snapshot(); err != nil {
				n.Shutdown()
				t.Fatal(err)
			}
		}
		if err := n.Shutdown(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRecoverAloneKeepsState(t *testing.T) {
	dir := t.TempDir()
	n, st := open(t, dir, 0)
	svc := &store.Service{}
	svc.ID = store.NewID()
	svc.Spec.Name = "kept"
	if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.Create(svc) }); err != nil {
		n.Shutdown()
		t.Fatal(err)
	}
	n.Shutdown()
	if err := RecoverAlone(dir, "node1", "node1", slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	n, st = open(t, dir, 0)
	defer n.Shutdown()
	var got *store.Service
	st.View(func(tx store.ReadTx) { got = tx.GetService(svc.ID) })
	if got == nil {
		t.Fatal("state lost by recovery")
	}
	servers, _ := n.Servers()
	if len(servers) != 1 {
		t.Fatalf("servers after recovery: %v", servers)
	}
}
