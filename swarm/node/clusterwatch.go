package node

import (
	"context"
	"time"

	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
)

// clusterResync is how often the cluster watcher looks at the cluster object without being told
// of a change: a snapshot a leader sends replaces the store without events, and a failed key write
// is retried then.
const clusterResync = 10 * time.Second

// tuner is the part of the Raft member the cluster watcher tunes.
type tuner interface {
	Tuning() raft.Tuning
	Tune(raft.Tuning) error
}

// keyApplied is what the cluster watcher last wrote of the node key.
type keyApplied struct {
	written bool   // the key was written since this manager started
	unlock  string // the unlock key it was locked with ("" for none)
}

// clusterActions is what the cluster watcher must do to follow the cluster object.
type clusterActions struct {
	// writeKey: write the node key locked with unlock ("" writes it in clear).
	writeKey bool
	unlock   string
	// tune, when set, is the Raft tuning to apply.
	tune *raft.Tuning
}

// reconcileCluster is the cluster watcher's decision: lock the node key on disk with the cluster's
// unlock key (or keep it in clear without autolock), written once at start and again whenever the
// key changes; and tune Raft as the swarm spec's Raft section asks. cl is nil before the cluster
// object exists.
func reconcileCluster(cl *store.Cluster, key keyApplied, cur raft.Tuning) clusterActions {
	var a clusterActions
	want := cur
	if cl != nil {
		a.unlock = cl.UnlockKey
		want = tuningOf(cl.Spec.Raft, cur)
	}
	a.writeKey = !key.written || key.unlock != a.unlock
	if want != cur {
		a.tune = &want
	}
	return a
}

// clusterWatcher keeps this manager in line with the cluster object while it is a manager, leader
// or not: its node key on disk locked with the current unlock key (`docker swarm update
// --autolock`, `docker swarm unlock-key --rotate`), and its Raft settings as the swarm spec says
// (`--snapshot-interval`, LogEntriesForSlowFollowers, KeepOldSnapshots: each manager snapshots and
// compacts its own log). It acts on every change of the cluster object, and every clusterResync.
func (mb *Membership) clusterWatcher(ctx context.Context, st *store.Store, rn tuner) {
	var key keyApplied
	isCluster := func(ev store.Event) bool { return ev.Object != nil && ev.Object.Kind() == store.KindCluster }
	pass := func(context.Context) {
		var cl *store.Cluster
		st.View(func(tx store.ReadTx) { cl = tx.GetCluster() })
		key = mb.applyCluster(reconcileCluster(cl, key, rn.Tuning()), key, rn)
	}
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, clusterResync)
		err := st.Follow(rctx, "cluster watcher", isCluster, pass)
		cancel()
		if err != nil {
			mb.cfg.Logger.Warn("the cluster watcher stopped", "err", err)
			return
		}
	}
}

// applyCluster carries out a; it returns what is now written of the node key.
func (mb *Membership) applyCluster(a clusterActions, key keyApplied, rn tuner) keyApplied {
	if a.writeKey {
		mb.mu.Lock() // held while writing, so that a renewal writes after, with this lock
		err := saveKey(mb.cfg.Dir, mb.keyPEM, a.unlock)
		if err == nil {
			mb.unlock = a.unlock
		}
		mb.mu.Unlock()
		if err != nil {
			mb.cfg.Logger.Warn("saving the node key failed", "err", err)
		} else {
			key = keyApplied{written: true, unlock: a.unlock}
		}
	}
	if t := a.tune; t != nil {
		if err := rn.Tune(*t); err != nil {
			mb.cfg.Logger.Warn("applying the swarm's raft settings failed", "err", err)
		} else {
			mb.cfg.Logger.Info("raft settings", "snapshot-interval", t.SnapshotThreshold, "log-entries-for-slow-followers", t.TrailingLogs,
				"retain-snapshots", t.RetainSnapshots)
		}
	}
	return key
}
