package dns

import "net/netip"

// Resolver answers the names of the swarm as one container sees them. Implementations must be
// safe for concurrent use; the slices they return are the caller's.
type Resolver interface {
	// Lookup answers A queries for name (no trailing dot, lower case) as seen from one
	// container: the addresses, and whether the name is the swarm's (true: answer NXDOMAIN
	// when ips is empty; false: forward).
	Lookup(name string) (ips []netip.Addr, ours bool)
	// Reverse answers PTR queries (ip -> names), ours as above.
	Reverse(ip netip.Addr) (names []string, ours bool)
}

// noNames is the Resolver that knows no name: everything is forwarded.
type noNames struct{}

func (noNames) Lookup(string) ([]netip.Addr, bool)  { return nil, false }
func (noNames) Reverse(netip.Addr) ([]string, bool) { return nil, false }
