package node

import (
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/raft"
)

func TestTuningOf(t *testing.T) {
	cur := raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 500}
	cases := []struct {
		spec swarm.RaftConfig
		want raft.Tuning
	}{
		{swarm.RaftConfig{}, cur},
		{swarm.RaftConfig{SnapshotInterval: 50}, raft.Tuning{SnapshotThreshold: 50, TrailingLogs: 500}},
		{swarm.RaftConfig{SnapshotInterval: 50, LogEntriesForSlowFollowers: 10}, raft.Tuning{SnapshotThreshold: 50, TrailingLogs: 10}},
		{swarm.RaftConfig{LogEntriesForSlowFollowers: 7}, raft.Tuning{SnapshotThreshold: 10000, TrailingLogs: 7}},
	}
	for _, c := range cases {
		if got := tuningOf(c.spec, cur); got != c.want {
			t.Errorf("tuningOf(%+v) = %+v, want %+v", c.spec, got, c.want)
		}
	}
}
