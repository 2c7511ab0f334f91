package node

import (
	"context"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

// predefinedNetworks are the swarm networks swarmkit makes for itself: a service attached to "host"
// runs its tasks in their node's network namespace, one attached to "bridge" on the node's default
// network. Lists leave them out; `--network host` finds them by name.
var predefinedNetworks = []struct{ name, driver string }{{"bridge", "bridge"}, {"host", "host"}}

// createPredefinedNetworks adds the predefined networks the store lacks.
func createPredefinedNetworks(tx store.Tx) error {
	for _, p := range predefinedNetworks {
		if tx.FindNetworkByName(p.name) != nil {
			continue
		}
		n := &store.Network{}
		n.ID = store.NewID()
		n.Spec = swarm.NetworkSpec{
			Annotations:         swarm.Annotations{Name: p.name, Labels: map[string]string{"com.docker.swarm.predefined": "true"}},
			DriverConfiguration: &swarm.Driver{Name: p.driver},
			Scope:               "swarm",
		}
		if err := tx.Create(n); err != nil {
			return err
		}
	}
	return nil
}

// ensurePredefinedNetworks is a one-shot leader loop: a swarm made before they existed gets them.
func ensurePredefinedNetworks(st *store.Store) func(context.Context) error {
	return func(ctx context.Context) error {
		missing := false
		st.View(func(tx store.ReadTx) {
			for _, p := range predefinedNetworks {
				missing = missing || tx.FindNetworkByName(p.name) == nil
			}
		})
		if !missing {
			return nil
		}
		return st.Update(ctx, createPredefinedNetworks)
	}
}
