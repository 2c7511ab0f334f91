package allocator

import (
	"fmt"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

// The range dynamic ingress ports come from, as in Docker.
const (
	DynamicPortStart = 30000
	DynamicPortEnd   = 32767
)

type portKey struct {
	protocol swarm.PortConfigProtocol
	port     uint32
}

func protocolOf(p swarm.PortConfig) swarm.PortConfigProtocol {
	if p.Protocol == "" {
		return swarm.PortConfigProtocolTCP
	}
	return p.Protocol
}

func publishModeOf(p swarm.PortConfig) swarm.PortConfigPublishMode {
	if p.PublishMode == "" {
		return swarm.PortConfigPublishModeIngress
	}
	return p.PublishMode
}

// portSet holds the ingress ports in use in the cluster and who holds them.
type portSet struct {
	used map[portKey]*store.Service
}

func (ps *portSet) reserve(k portKey, svc *store.Service) { ps.used[k] = svc }

// allocateDynamic gives the lowest free port of the dynamic range.
func (ps *portSet) allocateDynamic(proto swarm.PortConfigProtocol, svc *store.Service) (uint32, bool) {
	for p := uint32(DynamicPortStart); p <= DynamicPortEnd; p++ {
		k := portKey{proto, p}
		if ps.used[k] == nil {
			ps.used[k] = svc
			return p, true
		}
	}
	return 0, false
}

// PortConflict checks the published ports of spec against those of the other services, in Docker's
// words (swarmkit controlapi): a port another service publishes in ingress mode is taken for any mode,
// and a port another service publishes in host mode is taken for ingress mode (host-mode ports may be
// shared; the scheduler keeps them on different nodes). serviceID is the service being updated ("" on
// create). The control layer calls this before writing a service.
func PortConflict(services []*store.Service, serviceID string, spec *swarm.EndpointSpec) error {
	if spec == nil {
		return nil
	}
	ingress := map[portKey]bool{}
	host := map[portKey]bool{}
	for _, pc := range spec.Ports {
		if pc.PublishedPort == 0 {
			continue
		}
		k := portKey{protocolOf(pc), pc.PublishedPort}
		if publishModeOf(pc) == swarm.PortConfigPublishModeHost {
			host[k] = true
		} else {
			ingress[k] = true
		}
	}
	for _, s := range services {
		if serviceID != "" && s.ID == serviceID {
			continue
		}
		var theirs []swarm.PortConfig
		if s.Spec.EndpointSpec != nil {
			theirs = append(theirs, s.Spec.EndpointSpec.Ports...)
		}
		theirs = append(theirs, s.Endpoint.Ports...)
		for _, o := range theirs {
			if o.PublishedPort == 0 {
				continue
			}
			k := portKey{protocolOf(o), o.PublishedPort}
			if publishModeOf(o) == swarm.PortConfigPublishModeHost {
				if ingress[k] {
					return fmt.Errorf("port '%d' is already in use by service '%s' (%s) as a host-published port", o.PublishedPort, s.Spec.Name, s.ID)
				}
			} else if ingress[k] || host[k] {
				return fmt.Errorf("port '%d' is already in use by service '%s' (%s) as an ingress port", o.PublishedPort, s.Spec.Name, s.ID)
			}
		}
	}
	return nil
}
