package control

import (
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func TestLosesQuorum(t *testing.T) {
	reachable := &swarm.ManagerStatus{Reachability: swarm.ReachabilityReachable}
	down := &swarm.ManagerStatus{Reachability: swarm.ReachabilityUnreachable}
	for _, c := range []struct {
		r, u int
		ms   *swarm.ManagerStatus
		want bool
	}{
		{3, 0, reachable, false}, // 3 → 2, both up
		{2, 1, reachable, true},  // 3 → 2 with one down: 1 of 2 up
		{2, 1, down, false},      // removing the down one: 2 of 2 up
		{5, 0, reachable, false},
		{3, 2, reachable, true},
	} {
		if got := losesQuorum(c.r, c.u, c.ms); got != c.want {
			t.Errorf("losesQuorum(%d, %d, %s) = %v, want %v", c.r, c.u, c.ms.Reachability, got, c.want)
		}
	}
}
