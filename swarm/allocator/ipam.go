package allocator

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Defaults of the cluster address pool.
const (
	DefaultAddrPool   = "10.0.0.0/8"
	DefaultSubnetSize = 24
)

func ip4ToU32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func u32ToIP4(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// lastAddr is the last address of an IPv4 prefix (its broadcast address).
func lastAddr(p netip.Prefix) uint32 {
	return ip4ToU32(p.Masked().Addr()) | (^uint32(0) >> p.Bits())
}

func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// addrPool hands out the addresses of one network's IPv4 subnet.
type addrPool struct {
	subnet   netip.Prefix
	from, to uint32 // the allocatable range, inclusive
	used     map[uint32]bool
	hi       uint32 // the highest address in use in the range (0: none)
}

// newAddrPool makes the pool of a subnet, limited to ipRange when given. The network and broadcast
// addresses and the gateway are never handed out.
func newAddrPool(subnet netip.Prefix, ipRange string, gateway netip.Addr) (*addrPool, error) {
	subnet = subnet.Masked()
	p := &addrPool{subnet: subnet, used: map[uint32]bool{}}
	first, last := ip4ToU32(subnet.Addr()), lastAddr(subnet)
	p.from, p.to = first, last
	if subnet.Bits() <= 30 {
		p.from, p.to = first+1, last-1
	}
	if ipRange != "" {
		r, err := netip.ParsePrefix(ipRange)
		if err != nil || !r.Addr().Is4() || !subnet.Contains(r.Addr()) || r.Bits() < subnet.Bits() {
			return nil, fmt.Errorf("invalid ip range %q for subnet %s", ipRange, subnet)
		}
		r = r.Masked()
		p.from = max(p.from, ip4ToU32(r.Addr()))
		p.to = min(p.to, lastAddr(r))
	}
	if gateway.IsValid() {
		p.reserve(gateway)
	}
	return p, nil
}

// contains reports whether a is an address of the pool's subnet.
func (p *addrPool) contains(a netip.Addr) bool { return a.Is4() && p.subnet.Contains(a) }

// reserve marks an address as used.
func (p *addrPool) reserve(a netip.Addr) {
	if p.contains(a) {
		p.mark(ip4ToU32(a))
	}
}

// take marks an address of the allocatable range as used; false when it is outside the range or
// already used.
func (p *addrPool) take(a netip.Addr) bool {
	if !p.contains(a) {
		return false
	}
	v := ip4ToU32(a)
	if v < p.from || v > p.to || p.used[v] {
		return false
	}
	p.mark(v)
	return true
}

func (p *addrPool) mark(v uint32) {
	p.used[v] = true
	if v >= p.from && v <= p.to && v > p.hi {
		p.hi = v
	}
}

// allocate gives the next free address after the highest one in use, wrapping around to the lowest
// free one, so that addresses just freed are not handed out again at once (as Docker's IPAM does).
func (p *addrPool) allocate() (netip.Prefix, bool) {
	start := p.from
	if p.hi >= p.from && p.hi < p.to {
		start = p.hi + 1
	}
	for v := start; ; {
		if !p.used[v] {
			p.mark(v)
			return netip.PrefixFrom(u32ToIP4(v), p.subnet.Bits()), true
		}
		if v == p.to {
			v = p.from
		} else {
			v++
		}
		if v == start {
			return netip.Prefix{}, false
		}
	}
}

// subnetAllocator hands out subnets of the cluster's default address pools.
type subnetAllocator struct {
	pools []netip.Prefix
	size  int
	taken []netip.Prefix
}

func newSubnetAllocator(pools []string, size uint32) (*subnetAllocator, error) {
	if len(pools) == 0 {
		pools = []string{DefaultAddrPool}
	}
	if size == 0 {
		size = DefaultSubnetSize
	}
	sa := &subnetAllocator{size: int(size)}
	for _, s := range pools {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("invalid default address pool %q", s)
		}
		if int(size) < p.Bits() || size > 32 {
			return nil, fmt.Errorf("invalid subnet size %d for address pool %s", size, s)
		}
		sa.pools = append(sa.pools, p.Masked())
	}
	return sa, nil
}

// take records a subnet already in use.
func (sa *subnetAllocator) take(p netip.Prefix) { sa.taken = append(sa.taken, p.Masked()) }

// allocate gives the first subnet of the pools that overlaps nothing in use.
func (sa *subnetAllocator) allocate() (netip.Prefix, bool) {
	step := uint64(1) << (32 - sa.size)
	for _, pool := range sa.pools {
		first := uint64(ip4ToU32(pool.Addr()))
		last := uint64(lastAddr(pool))
		for v := first; v+step-1 <= last; v += step {
			cand := netip.PrefixFrom(u32ToIP4(uint32(v)), sa.size)
			free := true
			for _, t := range sa.taken {
				if overlaps(cand, t) {
					free = false
					break
				}
			}
			if free {
				sa.taken = append(sa.taken, cand)
				return cand, true
			}
		}
	}
	return netip.Prefix{}, false
}

// firstHost is the gateway Docker gives a subnet: its first address.
func firstHost(p netip.Prefix) netip.Addr { return u32ToIP4(ip4ToU32(p.Masked().Addr()) + 1) }
