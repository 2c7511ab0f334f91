package node

import (
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/raft"
)

func TestTuningOf(t *testing.T) {
	cur := raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 500, RetainSnapshots: 1}
	keep := func(n uint64) *uint64 { return &n }
	cases := []struct {
		spec swarm.RaftConfig
		want raft.Tuning
	}{
		{swarm.RaftConfig{}, cur},
		{swarm.RaftConfig{SnapshotInterval: 50}, raft.Tuning{SnapshotThreshold: 50, TrailingLogs: 500, RetainSnapshots: 1}},
		{swarm.RaftConfig{SnapshotInterval: 50, LogEntriesForSlowFollowers: 10}, raft.Tuning{SnapshotThreshold: 50, TrailingLogs: 10, RetainSnapshots: 1}},
		{swarm.RaftConfig{LogEntriesForSlowFollowers: 7}, raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 7, RetainSnapshots: 1}},
		{swarm.RaftConfig{KeepOldSnapshots: keep(0)}, cur},
		{swarm.RaftConfig{KeepOldSnapshots: keep(4)}, raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 500, RetainSnapshots: 5}},
		{swarm.RaftConfig{KeepOldSnapshots: keep(1<<63 + 5)}, raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 500, RetainSnapshots: maxRetainSnapshots}},
	}
	for _, c := range cases {
		if got := tuningOf(c.spec, cur); got != c.want {
			t.Errorf("tuningOf(%+v) = %+v, want %+v", c.spec, got, c.want)
		}
	}
}
