package node

import (
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func TestDesiredManagerStatus(t *testing.T) {
	for _, c := range []struct {
		node, self  string
		unreachable bool
		leader      bool
		reach       swarm.Reachability
	}{
		{"a", "a", false, true, swarm.ReachabilityReachable},
		{"a", "a", true, true, swarm.ReachabilityReachable}, // the leader reaches itself
		{"b", "a", false, false, swarm.ReachabilityReachable},
		{"b", "a", true, false, swarm.ReachabilityUnreachable},
	} {
		ms := desiredManagerStatus(c.node, c.self, "198.18.0.1:2377", c.unreachable)
		if ms.Leader != c.leader || ms.Reachability != c.reach || ms.Addr != "198.18.0.1:2377" {
			t.Errorf("%+v: got %+v", c, ms)
		}
	}
	if !sameStatus(nil, nil) || sameStatus(nil, &swarm.ManagerStatus{}) {
		t.Error("sameStatus")
	}
}
