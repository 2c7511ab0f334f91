package allocator

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

// allocated reports whether a network has its IPAM config.
func allocated(n *store.Network) bool { return n.IPAMOptions != nil && len(n.IPAMOptions.Configs) > 0 }

// isOverlay reports whether the allocator manages the network's addresses.
func isOverlay(n *store.Network) bool {
	return n.Spec.DriverConfiguration == nil || n.Spec.DriverConfiguration.Name == "" ||
		n.Spec.DriverConfiguration.Name == OverlayDriver
}

// subnetsOf gives the IPv4 subnets a network holds or asks for.
func subnetsOf(n *store.Network) []netip.Prefix {
	var out []netip.Prefix
	for _, o := range []*swarm.IPAMOptions{n.IPAMOptions, n.Spec.IPAMOptions} {
		if o == nil {
			continue
		}
		for _, c := range o.Configs {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil && p.Addr().Is4() {
				out = append(out, p)
			}
		}
	}
	return out
}

// v4config is the IPv4 part of a network's IPAM config.
type v4config struct {
	subnet  netip.Prefix
	ipRange string
	gateway netip.Addr
}

// ipv4Config gives the first IPv4 config of IPAM options.
func ipv4Config(o *swarm.IPAMOptions) (v4config, bool) {
	if o == nil {
		return v4config{}, false
	}
	for _, c := range o.Configs {
		p, err := netip.ParsePrefix(c.Subnet)
		if err != nil || !p.Addr().Is4() {
			continue
		}
		gw, _ := netip.ParseAddr(c.Gateway)
		return v4config{subnet: p.Masked(), ipRange: c.Range, gateway: gw}, true
	}
	return v4config{}, false
}

// allocateNetwork gives an unallocated overlay network its subnet, gateway and VXLAN ID.
func (a *allocation) allocateNetwork(n *store.Network) (*store.Network, error) {
	if allocated(n) || !isOverlay(n) {
		return nil, nil
	}
	nn := n.Copy()
	ipam := &swarm.IPAMOptions{Driver: swarm.Driver{Name: DefaultIPAM}}
	if s := n.Spec.IPAMOptions; s != nil {
		if s.Driver.Name != "" {
			ipam.Driver = s.Driver
		}
		for _, c := range s.Configs {
			if c.Subnet == "" {
				continue
			}
			p, err := netip.ParsePrefix(c.Subnet)
			if err != nil {
				return nil, fmt.Errorf("invalid subnet %q", c.Subnet)
			}
			if c.Gateway == "" && p.Addr().Is4() {
				c.Gateway = defaultGateway(p, c.Range).String()
			}
			if a.overlapping(p) {
				return nil, fmt.Errorf("invalid pool request: Pool overlaps with other one on this address space")
			}
			a.claimed = append(a.claimed, p)
			ipam.Configs = append(ipam.Configs, c)
		}
	}
	if _, ok := ipv4Config(ipam); !ok {
		if a.subnetErr != nil {
			return nil, a.subnetErr
		}
		p, ok := a.subnets.allocate()
		if !ok {
			return nil, fmt.Errorf("%s", errPoolExhausted)
		}
		ipam.Configs = append([]swarm.IPAMConfig{{Subnet: p.String(), Gateway: firstHost(p).String()}}, ipam.Configs...)
	}
	vni, err := a.vni(n)
	if err != nil {
		return nil, err
	}
	nn.IPAMOptions = ipam
	nn.VNI = vni
	nn.DriverState = swarm.Driver{Name: OverlayDriver, Options: map[string]string{VXLANIDOption: strconv.FormatUint(uint64(vni), 10)}}
	return nn, nil
}

// vni gives the network the VXLAN ID its driver options ask for, else the lowest free one.
func (a *allocation) vni(n *store.Network) (uint32, error) {
	if n.VNI != 0 {
		return n.VNI, nil
	}
	if d := n.Spec.DriverConfiguration; d != nil {
		if s, ok := d.Options[VXLANIDOption]; ok {
			first, _, _ := strings.Cut(s, ",")
			v, err := strconv.ParseUint(strings.TrimSpace(first), 10, 32)
			if err != nil || v == 0 || v > MaxVNI {
				return 0, fmt.Errorf("invalid %s %q", VXLANIDOption, s)
			}
			a.vnis[uint32(v)] = true
			return uint32(v), nil
		}
	}
	for v := uint32(FirstVNI); v <= MaxVNI; v++ {
		if !a.vnis[v] {
			a.vnis[v] = true
			return v, nil
		}
	}
	return 0, fmt.Errorf("no free VXLAN ID")
}

// defaultGateway is the gateway Docker's IPAM gives a subnet when none is asked for: the first
// address it hands out, in the IP range when there is one.
func defaultGateway(subnet netip.Prefix, ipRange string) netip.Addr {
	first := firstHost(subnet)
	if r, err := netip.ParsePrefix(ipRange); err == nil && r.Addr().Is4() && subnet.Contains(r.Addr()) {
		if start := r.Masked().Addr(); start.Compare(first) > 0 {
			return start
		}
	}
	return first
}

// overlapping reports whether p overlaps a subnet of an allocated network, or one claimed earlier
// in this pass.
func (a *allocation) overlapping(p netip.Prefix) bool {
	for _, q := range a.claimed {
		if q.Overlaps(p) {
			return true
		}
	}
	for _, n := range a.networks {
		for _, q := range subnetsOf(n) {
			if allocated(n) && q.Overlaps(p) {
				return true
			}
		}
	}
	return false
}
