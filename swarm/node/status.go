package node

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
)

// managerStatusLoop keeps every manager node's ManagerStatus true to Raft while this manager leads:
// who leads, who the leader can reach, and at which address.
type managerStatusLoop struct {
	st   *store.Store
	raft *raft.Node
	self string
}

func (l managerStatusLoop) Run(ctx context.Context) error {
	for {
		if err := l.reconcile(ctx); err != nil && ctx.Err() == nil {
			// retried on the next tick: a lost leadership ends ctx anyway
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// desiredManagerStatus is the pure part: the status a manager node should show.
func desiredManagerStatus(nodeID, self, addr string, unreachable bool) *swarm.ManagerStatus {
	ms := &swarm.ManagerStatus{Leader: nodeID == self, Reachability: swarm.ReachabilityReachable, Addr: addr}
	if unreachable && nodeID != self {
		ms.Reachability = swarm.ReachabilityUnreachable
	}
	return ms
}

func (l managerStatusLoop) reconcile(ctx context.Context) error {
	servers, err := l.raft.Servers()
	if err != nil {
		return err
	}
	voters := map[string]string{}
	for _, s := range servers {
		voters[string(s.ID)] = string(s.Address)
	}
	down := l.raft.Unreachable()
	return l.st.Update(ctx, func(tx store.Tx) error {
		for _, n := range tx.ListNodes() {
			addr, voter := voters[n.ID]
			var want *swarm.ManagerStatus
			if voter {
				want = desiredManagerStatus(n.ID, l.self, addr, down[n.ID])
			}
			if sameStatus(n.ManagerStatus, want) {
				continue
			}
			c := n.Copy()
			c.ManagerStatus = want
			if err := tx.Update(c); err != nil {
				return err
			}
		}
		return nil
	})
}

func sameStatus(a, b *swarm.ManagerStatus) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
