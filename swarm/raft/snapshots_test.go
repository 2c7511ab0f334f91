package raft

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoal-project/shoal/swarm/store"
)

// A manager keeps its newest snapshot and as many older ones as the tuning says (1 +
// KeepOldSnapshots); a change takes effect with the next snapshot, in both directions.
func TestSnapshotRetention(t *testing.T) {
	dir := t.TempDir()
	n, st := open(t, dir, 0)
	defer n.Shutdown()
	ctx := context.Background()
	steps := []struct {
		retain    int // 0: leave the tuning as it is
		snapshots int
		want      int
	}{
		{0, 2, DefaultRetainSnapshots},
		{3, 2, 3},
		{0, 3, 3},
		{2, 1, 2},
		{1, 1, 1},
		{5, 6, 5},
	}
	for i, s := range steps {
		if err := n.Tune(Tuning{RetainSnapshots: s.retain}); err != nil {
			t.Fatal(err)
		}
		if s.retain > 0 && n.Tuning().RetainSnapshots != s.retain {
			t.Fatalf("step %d: tuning %+v, want RetainSnapshots %d", i, n.Tuning(), s.retain)
		}
		for j := 0; j < s.snapshots; j++ {
			svc := &store.Service{}
			svc.ID = store.NewID()
			svc.Spec.Name = svc.ID
			if err := st.Update(ctx, func(tx store.Tx) error { return tx.Create(svc) }); err != nil {
				t.Fatal(err)
			}
			if err := n.Snapshot(); err != nil {
				t.Fatalf("step %d: snapshot: %v", i, err)
			}
		}
		ents, err := os.ReadDir(filepath.Join(dir, "snapshots"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != s.want {
			t.Fatalf("step %d: %d snapshots on disk, want %d", i, len(ents), s.want)
		}
		metas, err := n.snaps.List()
		if err != nil || len(metas) != s.want || metas[0].Index != n.r.AppliedIndex() {
			t.Fatalf("step %d: listed %d snapshots (err %v), want %d, the newest at the applied index", i, len(metas), err, s.want)
		}
	}
}
