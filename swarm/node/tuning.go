package node

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
)

// tuningOf is the pure part of raftTuner: the Raft settings a swarm spec asks for, keeping the
// current ones where the spec says nothing.
func tuningOf(spec swarm.RaftConfig, cur raft.Tuning) raft.Tuning {
	if spec.SnapshotInterval > 0 {
		cur.SnapshotThreshold = spec.SnapshotInterval
	}
	if spec.LogEntriesForSlowFollowers > 0 {
		cur.TrailingLogs = spec.LogEntriesForSlowFollowers
	}
	return cur
}

// raftTuner keeps this manager's Raft settings in line with the cluster's spec (`docker swarm
// update --snapshot-interval`, LogEntriesForSlowFollowers). It runs on every manager, leader or
// not: each one snapshots and compacts its own log.
func (mb *Membership) raftTuner(ctx context.Context, st *store.Store, rn *raft.Node) {
	for {
		cur := rn.Tuning()
		want := cur
		st.View(func(tx store.ReadTx) {
			if cl := tx.GetCluster(); cl != nil {
				want = tuningOf(cl.Spec.Raft, cur)
			}
		})
		if want != cur {
			if err := rn.Tune(want); err != nil {
				mb.cfg.Logger.Warn("applying the swarm's raft settings failed", "err", err)
			} else {
				mb.cfg.Logger.Info("raft settings", "snapshot-interval", want.SnapshotThreshold, "log-entries-for-slow-followers", want.TrailingLogs)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
