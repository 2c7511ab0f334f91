// Package allocator gives swarm objects the network resources they need before they can be scheduled:
// the leader-only controller that owns the move NEW -> PENDING.
//
//   - networks: a subnet (from the user's IPAM config, else the next free /SubnetSize of the cluster's
//     default address pool, 10.0.0.0/8 in /24s), a gateway (the first address) and a VXLAN ID;
//   - services: a virtual IP on every network they attach to in VIP mode, plus the ingress network when
//     they publish ports in ingress mode, and their published ports (30000-32767 when none is given);
//   - tasks: an address on each network they attach to (Task.NetworksAttachments), then PENDING with
//     "pending task scheduling";
//   - nodes: once the ingress network is allocated, each node's own address on it (Node.IngressAddr,
//     for its ingress sandbox), kept while it stays valid and cleared when the ingress network goes.
//
// No allocation state lives only in memory: Allocate derives what is in use from the snapshot it is
// given (network configs, service endpoints, the attachments of tasks that are not dead, the nodes'
// ingress addresses), so a new leader allocates exactly as the old one would have. Addresses of dead
// tasks and of deleted services, networks and nodes are free again as soon as the snapshot no longer
// shows them in use.
//
// Allocate is the pure core; Allocator is the shell that watches the store and writes the results.
package allocator
