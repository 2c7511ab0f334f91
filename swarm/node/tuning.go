package node

import (
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/raft"
)

// tuningOf is the Raft part of reconcileCluster: the Raft settings a swarm spec asks for, keeping the
// current ones where the spec says nothing.
func tuningOf(spec swarm.RaftConfig, cur raft.Tuning) raft.Tuning {
	if spec.SnapshotInterval > 0 {
		cur.SnapshotThreshold = spec.SnapshotInterval
	}
	if spec.LogEntriesForSlowFollowers > 0 {
		cur.TrailingLogs = spec.LogEntriesForSlowFollowers
	}
	if k := spec.KeepOldSnapshots; k != nil {
		cur.RetainSnapshots = retainFor(*k)
	}
	return cur
}

// maxRetainSnapshots bounds the snapshots a manager keeps on disk, whatever KeepOldSnapshots says.
const maxRetainSnapshots = 1 << 20

// retainFor is how many snapshots a manager keeps for a spec's KeepOldSnapshots: the newest and
// that many older ones.
func retainFor(keepOld uint64) int {
	if keepOld >= maxRetainSnapshots-1 {
		return maxRetainSnapshots
	}
	return 1 + int(keepOld)
}
