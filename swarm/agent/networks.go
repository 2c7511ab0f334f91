package agent

import (
	"context"

	"github.com/shoal-project/shoal/swarm/netview"
)

// NetworkSession is a session that also delivers the node's view of the overlay networks its
// tasks use (endpoints across the cluster, services and their VIPs, ingress ports).
type NetworkSession interface {
	// Networks delivers the latest view whenever it changes.
	Networks() <-chan netview.NodeView
}

// NetworkApplier is an executor that also runs the node's network data plane: it is given each
// new view of the overlay networks.
type NetworkApplier interface {
	ApplyNetworks(ctx context.Context, v netview.NodeView) error
}
