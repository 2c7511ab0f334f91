package lb

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// VIP is a service's virtual IP on one network and the addresses of its
// running tasks on that network.
type VIP struct {
	Addr     netip.Addr
	Backends []netip.Addr
}

// ApplyVIPs makes the table ip shoal-lb of the netns at nsPath ("" = the
// caller's) balance connections to each VIP over its backends:
//
//	chain output { type nat hook output priority dstnat;
//	    ip daddr VIP dnat to numgen inc mod N map @vip_<i> }
//
// for every protocol, ports kept (round robin per connection). A VIP
// without backends is rejected in a filter output chain (tcp reset, else
// icmp port unreachable) so that clients fail fast. The table is replaced
// atomically; no VIP removes it. Conntrack entries of a VIP whose backend
// is gone are deleted.
func ApplyVIPs(nsPath string, vips []VIP) error {
	if len(vips) == 0 {
		return replaceTable(nsPath, lbTable, nil)
	}
	err := replaceTable(nsPath, lbTable, func(b *builder) error {
		nat := b.chain("output", nftables.ChainTypeNAT, nftables.ChainHookOutput, nftables.ChainPriorityNATDest)
		var filter *nftables.Chain
		seen := map[netip.Addr]bool{}
		for i, v := range vips {
			vip, err := ipv4(v.Addr)
			if err != nil {
				return fmt.Errorf("vip: %w", err)
			}
			if seen[v.Addr] {
				return fmt.Errorf("duplicate vip %v", v.Addr)
			}
			seen[v.Addr] = true
			if len(v.Backends) == 0 {
				if filter == nil {
					filter = b.chain("reject", nftables.ChainTypeFilter, nftables.ChainHookOutput, nftables.ChainPriorityFilter)
				}
				b.rule(filter, rule(matchIP(true, vip), matchProto(6), []expr.Any{rejectTCPReset()}))
				b.rule(filter, rule(matchIP(true, vip), []expr.Any{rejectPortUnreachable()}))
				continue
			}
			backends := make([][]byte, len(v.Backends))
			for j, a := range v.Backends {
				if backends[j], err = ipv4(a); err != nil {
					return fmt.Errorf("backend of %v: %w", v.Addr, err)
				}
			}
			set, elems := backendMap(b.t, fmt.Sprintf("vip_%d", i), backends)
			b.set(set, elems)
			b.rule(nat, rule(matchIP(true, vip), dnatNumgen(set, len(backends), 0)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return deleteFlows(nsPath, newVIPStale(vips))
}
