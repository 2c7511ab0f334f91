package node

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
)

func TestReconcileCluster(t *testing.T) {
	cur := raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 500, RetainSnapshots: 1}
	keep := func(n uint64) *uint64 { return &n }
	cluster := func(unlock string, rc swarm.RaftConfig) *store.Cluster {
		cl := &store.Cluster{UnlockKey: unlock}
		cl.Spec.Raft = rc
		return cl
	}
	tests := []struct {
		name     string
		cl       *store.Cluster
		key      keyApplied
		writeKey bool
		unlock   string
		tune     *raft.Tuning
	}{
		{"no cluster yet: the key is written in clear once", nil, keyApplied{}, true, "", nil},
		{"no cluster, key written", nil, keyApplied{written: true}, false, "", nil},
		{"start without autolock", cluster("", swarm.RaftConfig{}), keyApplied{}, true, "", nil},
		{"start with autolock", cluster("SWMKEY-1-a", swarm.RaftConfig{}), keyApplied{}, true, "SWMKEY-1-a", nil},
		{"nothing changed", cluster("SWMKEY-1-a", swarm.RaftConfig{}), keyApplied{true, "SWMKEY-1-a"}, false, "SWMKEY-1-a", nil},
		{"autolock on", cluster("SWMKEY-1-a", swarm.RaftConfig{}), keyApplied{true, ""}, true, "SWMKEY-1-a", nil},
		{"key rotated", cluster("SWMKEY-1-b", swarm.RaftConfig{}), keyApplied{true, "SWMKEY-1-a"}, true, "SWMKEY-1-b", nil},
		{"autolock off", cluster("", swarm.RaftConfig{}), keyApplied{true, "SWMKEY-1-a"}, true, "", nil},
		{"snapshot interval", cluster("", swarm.RaftConfig{SnapshotInterval: 50}), keyApplied{true, ""}, false, "",
			&raft.Tuning{SnapshotThreshold: 50, TrailingLogs: 500, RetainSnapshots: 1}},
		{"keep old snapshots", cluster("", swarm.RaftConfig{KeepOldSnapshots: keep(2)}), keyApplied{true, ""}, false, "",
			&raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 500, RetainSnapshots: 3}},
		{"spec as in force", cluster("", swarm.RaftConfig{SnapshotInterval: 10000, KeepOldSnapshots: keep(0), LogEntriesForSlowFollowers: 500}),
			keyApplied{true, ""}, false, "", nil},
		{"both at once", cluster("SWMKEY-1-a", swarm.RaftConfig{LogEntriesForSlowFollowers: 9}), keyApplied{true, ""}, true, "SWMKEY-1-a",
			&raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 9, RetainSnapshots: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := reconcileCluster(tt.cl, tt.key, cur)
			if a.writeKey != tt.writeKey || (a.writeKey && a.unlock != tt.unlock) {
				t.Errorf("writeKey %v unlock %q, want %v %q", a.writeKey, a.unlock, tt.writeKey, tt.unlock)
			}
			if (a.tune == nil) != (tt.tune == nil) || (a.tune != nil && *a.tune != *tt.tune) {
				t.Errorf("tune %+v, want %+v", a.tune, tt.tune)
			}
		})
	}
}

// fakeTuner records the tunings applied and tells the test of each.
type fakeTuner struct {
	cur   raft.Tuning
	tuned chan raft.Tuning
}

func (f *fakeTuner) Tuning() raft.Tuning { return f.cur }
func (f *fakeTuner) Tune(t raft.Tuning) error {
	f.cur = t
	f.tuned <- t
	return nil
}

// The cluster watcher acts on changes of the cluster object as the store reports them: it locks
// the node key with a new unlock key and tunes Raft, in one pass.
func TestClusterWatcherFollowsTheStore(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, certDir), 0o700); err != nil {
		t.Fatal(err)
	}
	keyPEM := []byte("-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----\n")
	mb := &Membership{cfg: Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, keyPEM: keyPEM}
	st := store.New(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cl := &store.Cluster{}
	cl.ID = "cluster"
	cl.Spec.Raft.SnapshotInterval = 10000
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.Create(cl) }); err != nil {
		t.Fatal(err)
	}
	tn := &fakeTuner{cur: raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 500, RetainSnapshots: 1}, tuned: make(chan raft.Tuning, 4)}
	done := make(chan struct{})
	go func() { defer close(done); mb.clusterWatcher(ctx, st, tn) }()
	defer func() { cancel(); <-done }()

	wait := func(want raft.Tuning) {
		t.Helper()
		select {
		case got := <-tn.tuned:
			if got != want {
				t.Fatalf("tuned %+v, want %+v", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("not tuned to %+v", want)
		}
	}
	update := func(f func(*store.Cluster)) {
		t.Helper()
		err := st.Update(ctx, func(tx store.Tx) error {
			c := tx.GetCluster().Copy()
			f(c)
			return tx.Update(c)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readKey := func() []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, certDir, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	keep := uint64(3)
	update(func(c *store.Cluster) { c.UnlockKey = "SWMKEY-1-a"; c.Spec.Raft.KeepOldSnapshots = &keep })
	wait(raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 500, RetainSnapshots: 4})
	if b := readKey(); !isLocked(b) {
		t.Fatalf("key on disk not locked after autolock: %q", b)
	} else if plain, err := unlockKey(b, "SWMKEY-1-a"); err != nil || string(plain) != string(keyPEM) {
		t.Fatalf("key on disk does not open with the unlock key: %v", err)
	}

	update(func(c *store.Cluster) { c.UnlockKey = ""; c.Spec.Raft.SnapshotInterval = 77 })
	wait(raft.Tuning{SnapshotThreshold: 77, TrailingLogs: 500, RetainSnapshots: 4})
	if b := readKey(); string(b) != string(keyPEM) {
		t.Fatalf("key on disk after autolock off: %q, want it in clear", b)
	}
	mb.mu.Lock()
	unlock := mb.unlock
	mb.mu.Unlock()
	if unlock != "" {
		t.Fatalf("membership's unlock key %q after autolock off", unlock)
	}
}
