package allocator

import (
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

// resolve finds a network by ID or name.
func (a *allocation) resolve(target string) *store.Network {
	if n := a.networks[target]; n != nil {
		return n
	}
	return a.byName[strings.ToLower(target)]
}

// attachments gives the networks a service's tasks attach to (TaskTemplate.Networks, else the
// deprecated ServiceSpec.Networks).
func attachments(svc *store.Service) []swarm.NetworkAttachmentConfig {
	if len(svc.Spec.TaskTemplate.Networks) > 0 {
		return svc.Spec.TaskTemplate.Networks
	}
	return svc.Spec.Networks
}

// needsIngress reports whether a service publishes a port in ingress mode.
func needsIngress(spec *swarm.EndpointSpec) bool {
	if spec == nil {
		return false
	}
	for _, p := range spec.Ports {
		if publishModeOf(p) == swarm.PortConfigPublishModeIngress {
			return true
		}
	}
	return false
}

// serviceNetworks gives the allocated networks a service attaches to, ingress first when it needs it.
func (a *allocation) serviceNetworks(svc *store.Service, configs []swarm.NetworkAttachmentConfig) ([]*store.Network, error) {
	var out []*store.Network
	seen := map[string]bool{}
	if needsIngress(svc.Spec.EndpointSpec) {
		if a.ingress == nil {
			if a.hasIngress {
				return nil, fmt.Errorf("the ingress network is not allocated yet")
			}
			return nil, fmt.Errorf("%s", errNoIngress)
		}
		out = append(out, a.ingress)
		seen[a.ingress.ID] = true
	}
	for _, c := range configs {
		n := a.resolve(c.Target)
		if n == nil {
			return nil, fmt.Errorf("network %s is not allocated yet or does not exist", c.Target)
		}
		if !seen[n.ID] {
			seen[n.ID] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// allocateService computes the endpoint a service should have and returns a changed copy, or nil
// when it already has it.
func (a *allocation) allocateService(svc *store.Service) (*store.Service, error) {
	spec := svc.Spec.EndpointSpec
	mode := swarm.ResolutionModeVIP
	var ports []swarm.PortConfig
	if spec != nil {
		if spec.Mode != "" {
			mode = spec.Mode
		}
		ports = spec.Ports
	}
	configs := attachments(svc)
	nets, err := a.serviceNetworks(svc, configs)
	if err != nil {
		return nil, err
	}

	var want swarm.Endpoint
	if (len(configs) > 0 && mode == swarm.ResolutionModeVIP) || len(ports) > 0 {
		want.Spec = swarm.EndpointSpec{Mode: mode}
		if spec != nil {
			want.Spec.Ports = spec.Ports
		}
		if want.Ports, err = a.allocatePorts(svc, ports); err != nil {
			return nil, err
		}
		if mode == swarm.ResolutionModeVIP {
			if want.VirtualIPs, err = a.allocateVIPs(svc, nets); err != nil {
				return nil, err
			}
		}
	}
	// Release what the service held and no longer needs.
	keep := map[swarm.EndpointVirtualIP]bool{}
	for _, v := range want.VirtualIPs {
		keep[v] = true
	}
	for _, v := range svc.Endpoint.VirtualIPs {
		if !keep[v] {
			a.releaseAddr(v.NetworkID, v.Addr)
		}
	}
	for k, holder := range a.ports.used {
		if holder == svc {
			delete(a.ports.used, k)
		}
	}
	for _, p := range want.Ports {
		if p.PublishedPort != 0 && p.PublishMode == swarm.PortConfigPublishModeIngress {
			a.ports.reserve(portKey{p.Protocol, p.PublishedPort}, svc)
		}
	}
	if sameJSON(want, svc.Endpoint) {
		return nil, nil
	}
	ns := svc.Copy()
	ns.Endpoint = want
	return ns, nil
}

// allocatePorts fills in the published ports of a service: fixed ones are checked against the other
// services, ingress ports without a published port keep the one they had or get the lowest free one of
// the dynamic range. Host-mode ports are published by the node and copied as given.
func (a *allocation) allocatePorts(svc *store.Service, spec []swarm.PortConfig) ([]swarm.PortConfig, error) {
	if len(spec) == 0 {
		return nil, nil
	}
	fixed := map[portKey]bool{}
	for _, p := range spec {
		if p.PublishedPort != 0 {
			fixed[portKey{protocolOf(p), p.PublishedPort}] = true
		}
	}
	// Dynamic ports the service already holds, reusable by a port of the same name, protocol and target.
	prev := map[string][]uint32{}
	dynKey := func(p swarm.PortConfig) string {
		return fmt.Sprintf("%s/%s/%d", p.Name, protocolOf(p), p.TargetPort)
	}
	for _, p := range svc.Endpoint.Ports {
		if publishModeOf(p) == swarm.PortConfigPublishModeIngress && p.PublishedPort != 0 &&
			!fixed[portKey{protocolOf(p), p.PublishedPort}] {
			prev[dynKey(p)] = append(prev[dynKey(p)], p.PublishedPort)
		}
	}
	out := make([]swarm.PortConfig, 0, len(spec))
	for _, p := range spec {
		p.Protocol = protocolOf(p)
		p.PublishMode = publishModeOf(p)
		if p.PublishMode == swarm.PortConfigPublishModeIngress {
			if p.PublishedPort != 0 {
				if holder := a.ports.used[portKey{p.Protocol, p.PublishedPort}]; holder != nil && holder.ID != svc.ID {
					return nil, fmt.Errorf("port '%d' is already in use by service '%s' (%s) as an ingress port", p.PublishedPort, holder.Spec.Name, holder.ID)
				}
			} else if l := prev[dynKey(p)]; len(l) > 0 {
				p.PublishedPort, prev[dynKey(p)] = l[0], l[1:]
			} else {
				port, ok := a.ports.allocateDynamic(p.Protocol, svc)
				if !ok {
					return nil, fmt.Errorf("no free port in the dynamic range %d-%d", DynamicPortStart, DynamicPortEnd)
				}
				p.PublishedPort = port
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// allocateVIPs gives a service one virtual IP per network, keeping the ones it has.
func (a *allocation) allocateVIPs(svc *store.Service, nets []*store.Network) ([]swarm.EndpointVirtualIP, error) {
	had := map[string]string{}
	for _, v := range svc.Endpoint.VirtualIPs {
		had[v.NetworkID] = v.Addr
	}
	out := make([]swarm.EndpointVirtualIP, 0, len(nets))
	for _, n := range nets {
		if !isOverlay(n) {
			continue // the node's own host or bridge network: no virtual IP
		}
		if addr, ok := had[n.ID]; ok {
			out = append(out, swarm.EndpointVirtualIP{NetworkID: n.ID, Addr: addr})
			continue
		}
		p := a.pools[n.ID]
		if p == nil {
			return nil, fmt.Errorf("network %s has no IPv4 subnet", n.ID)
		}
		addr, ok := p.allocate()
		if !ok {
			return nil, fmt.Errorf("no free address on network %s", n.Spec.Name)
		}
		out = append(out, swarm.EndpointVirtualIP{NetworkID: n.ID, Addr: addr.String()})
	}
	return out, nil
}
