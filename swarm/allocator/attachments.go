package allocator

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// live reports whether a task still holds its addresses: it is not both desired and observed past
// running.
func live(t *store.Task) bool {
	return !(taskstate.Terminal(t.DesiredState) && taskstate.Terminal(t.Status.State))
}

// reserveInUse marks the VIPs, task addresses and ingress ports the snapshot shows in use.
func (a *allocation) reserveInUse(in Input) {
	for _, s := range in.Services {
		for _, v := range s.Endpoint.VirtualIPs {
			a.reserveAddr(v.NetworkID, v.Addr)
		}
		for _, p := range s.Endpoint.Ports {
			if p.PublishedPort != 0 && publishModeOf(p) == swarm.PortConfigPublishModeIngress {
				a.ports.reserve(portKey{protocolOf(p), p.PublishedPort}, s)
			}
		}
	}
	for _, t := range in.Tasks {
		if !live(t) {
			continue
		}
		for _, att := range t.NetworksAttachments {
			for _, addr := range att.Addresses {
				a.reserveAddr(att.Network.ID, addr)
			}
		}
	}
}

// reserveAddr marks an address ("10.0.1.5/24") of a network as used.
func (a *allocation) reserveAddr(networkID, cidr string) {
	p := a.pools[networkID]
	if p == nil {
		return
	}
	if pfx, err := netip.ParsePrefix(cidr); err == nil {
		p.reserve(pfx.Addr())
	}
}

// releaseAddr frees an address of a network.
func (a *allocation) releaseAddr(networkID, cidr string) {
	p := a.pools[networkID]
	if p == nil {
		return
	}
	if pfx, err := netip.ParsePrefix(cidr); err == nil && p.contains(pfx.Addr()) {
		delete(p.used, ip4ToU32(pfx.Addr()))
	}
}

// allocateTask gives a NEW task an address on each network it attaches to and moves it to PENDING.
func (a *allocation) allocateTask(t *store.Task, svc *store.Service, now time.Time) (*store.Task, error) {
	configs := t.Spec.Networks
	var nets []*store.Network
	var err error
	if svc != nil {
		if len(configs) == 0 {
			configs = attachments(svc)
		}
		nets, err = a.serviceNetworks(svc, configs)
	} else {
		for _, c := range configs {
			n := a.resolve(c.Target)
			if n == nil {
				err = fmt.Errorf("network %s is not allocated yet or does not exist", c.Target)
				break
			}
			nets = append(nets, n)
		}
	}
	if err != nil {
		return nil, err
	}
	var atts []swarm.NetworkAttachment
	for _, n := range nets {
		p := a.pools[n.ID]
		if p == nil && !isOverlay(n) {
			// the swarm's predefined host or bridge network: the node's own, no address
			atts = append(atts, swarm.NetworkAttachment{Network: n.Network})
			continue
		}
		if p == nil {
			err = fmt.Errorf("network %s has no IPv4 subnet", n.ID)
			break
		}
		addr, ok := p.allocate()
		if !ok {
			err = fmt.Errorf("no free address on network %s", n.Spec.Name)
			break
		}
		atts = append(atts, swarm.NetworkAttachment{Network: n.Network, Addresses: []string{addr.String()}})
	}
	if err != nil {
		for _, att := range atts {
			if len(att.Addresses) > 0 {
				a.releaseAddr(att.Network.ID, att.Addresses[0])
			}
		}
		return nil, err
	}
	nt := t.Copy()
	nt.NetworksAttachments = nil
	for _, att := range atts {
		// Each attachment carries its own copy of the network, as Docker shows it.
		b, _ := json.Marshal(att)
		var c swarm.NetworkAttachment
		_ = json.Unmarshal(b, &c)
		nt.NetworksAttachments = append(nt.NetworksAttachments, c)
	}
	nt.Status = swarm.TaskStatus{State: swarm.TaskStatePending, Timestamp: now, Message: MessagePending}
	return nt, nil
}
