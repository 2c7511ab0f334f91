package raft

import (
	"context"
	"testing"

	"github.com/shoal-project/shoal/swarm/store"
)

func newTask(i int) *store.Task {
	t := &store.Task{}
	t.ID = store.NewID()
	t.ServiceID = "svc"
	t.Slot = i + 1
	return t
}

// BenchmarkRaftWriteOne measures one task written per Raft entry (bbolt log, fsync on commit).
func BenchmarkRaftWriteOne(b *testing.B) {
	n, st := open(b, b.TempDir(), 0)
	defer n.Shutdown()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := newTask(i)
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.Create(t) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRaftWriteBatch measures tasks written through store.Batch: up to 200 per Raft entry, as
// the scheduler and the dispatcher write them.
func BenchmarkRaftWriteBatch(b *testing.B) {
	n, st := open(b, b.TempDir(), 0)
	defer n.Shutdown()
	ctx := context.Background()
	b.ResetTimer()
	err := st.Batch(ctx, func(bt *store.Batch) error {
		for i := 0; i < b.N; i++ {
			t := newTask(i)
			if err := bt.Update(func(tx store.Tx) error { return tx.Create(t) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
