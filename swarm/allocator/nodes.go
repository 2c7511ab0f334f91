package allocator

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/shoal-project/shoal/swarm/store"
)

// reserveNodeAddrs marks the ingress addresses nodes hold as used, in node ID order, and returns
// the IDs of the nodes whose address stays: it lies in the allocatable range of the allocated
// ingress network and no task, virtual IP or earlier node holds it. Nothing is reserved while there
// is no allocated ingress network.
func (a *allocation) reserveNodeAddrs(nodes []*store.Node) map[string]bool {
	keep := map[string]bool{}
	if a.ingress == nil {
		return keep
	}
	p := a.pools[a.ingress.ID]
	if p == nil {
		return keep
	}
	for _, n := range sortedNodes(nodes) {
		pfx, err := netip.ParsePrefix(n.IngressAddr)
		if err != nil || pfx.Bits() != p.subnet.Bits() || !p.take(pfx.Addr()) {
			continue
		}
		keep[n.ID] = true
	}
	return keep
}

// allocateNodes gives every node without a valid one an address on the allocated ingress network
// ("10.0.0.3/24"), and clears the address of every node once there is no ingress network at all.
// While the ingress network exists but is not allocated yet, nodes are left as they are. keep holds
// the nodes whose address stays (reserveNodeAddrs).
func (a *allocation) allocateNodes(nodes []*store.Node, keep map[string]bool) ([]*store.Node, []string) {
	var out []*store.Node
	var problems []string
	for _, n := range sortedNodes(nodes) {
		want := n.IngressAddr
		switch {
		case !a.hasIngress:
			want = ""
		case a.ingress == nil || a.pools[a.ingress.ID] == nil || keep[n.ID]:
			continue
		default:
			addr, ok := a.pools[a.ingress.ID].allocate()
			if !ok {
				problems = append(problems, fmt.Sprintf("node %s: no free address on the ingress network", n.ID))
				continue
			}
			want = addr.String()
		}
		if want == n.IngressAddr {
			continue
		}
		nn := n.Copy()
		nn.IngressAddr = want
		out = append(out, nn)
	}
	return out, problems
}

func sortedNodes(in []*store.Node) []*store.Node {
	out := append([]*store.Node(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
