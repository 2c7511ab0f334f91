package dispatcher

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/netview"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// NodeNetworks computes the view of the overlay networks node nodeID needs from a store snapshot:
//   - the networks: the allocated overlay networks (driver overlay, an IPv4 subnet and a VNI) that a
//     task on the node attaches to while it is between assigned and running (whatever its desired
//     state: its container still needs them), plus the ingress network when a service publishes a
//     port in ingress mode;
//   - on each, the endpoints: every task of the cluster with an address on it, placed on a node,
//     wanted at most running and observed between assigned and running;
//   - on each, the services attached to it (by their spec's networks, their virtual IPs, and on the
//     ingress network their ingress-mode published ports), except services being removed;
//   - the node's own ingress address (store.Node.IngressAddr) when the view holds the ingress network
//     and the address lies on its subnet.
//
// Views computed from one snapshot share their slices: they are read-only.
func NodeNetworks(tx store.ReadTx, nodeID string) netview.NodeView {
	return newClusterNets(tx).nodeView(tx, nodeID)
}

// clusterNets holds what every node's view is made of, computed once per snapshot: the overlay
// networks, the endpoints on them, the services attached to them. Networks are assembled the first
// time a node's view needs them and shared by the views made afterwards.
type clusterNets struct {
	networks  map[string]*store.Network // allocated overlay networks by ID
	ingress   *store.Network            // the allocated ingress network, or nil
	mesh      bool                      // a service publishes an ingress port: every node has the ingress network
	endpoints map[string][]netview.Endpoint
	services  map[string][]netview.Service
	built     map[string]netview.Network
}

// endpointStates are the observed states of a task that is an endpoint, from assigned to running.
var endpointStates = []swarm.TaskState{swarm.TaskStateAssigned, swarm.TaskStateAccepted, swarm.TaskStatePreparing,
	swarm.TaskStateReady, swarm.TaskStateStarting, swarm.TaskStateRunning}

func newClusterNets(tx store.ReadTx) *clusterNets {
	c := &clusterNets{networks: map[string]*store.Network{}, endpoints: map[string][]netview.Endpoint{},
		services: map[string][]netview.Service{}, built: map[string]netview.Network{}}
	byName := map[string]*store.Network{}
	for _, n := range tx.ListNetworks() {
		if _, _, ok := overlaySubnet(n); !ok {
			continue
		}
		c.networks[n.ID] = n
		byName[strings.ToLower(n.Spec.Name)] = n
		if n.Spec.Ingress {
			c.ingress = n
		}
	}
	resolve := func(target string) *store.Network {
		if n := c.networks[target]; n != nil {
			return n
		}
		return byName[strings.ToLower(target)]
	}

	svcs := map[string]*store.Service{}
	for _, s := range tx.ListServices() {
		if s.PendingDelete {
			continue
		}
		svcs[s.ID] = s
		ports := ingressPorts(s)
		if len(ports) > 0 {
			c.mesh = true
		}
		attached := map[string]bool{}
		var order []string
		attach := func(n *store.Network) {
			if n != nil && !attached[n.ID] {
				attached[n.ID] = true
				order = append(order, n.ID)
			}
		}
		for _, a := range serviceAttachments(s) {
			attach(resolve(a.Target))
		}
		for _, v := range s.Endpoint.VirtualIPs {
			attach(c.networks[v.NetworkID])
		}
		if len(ports) > 0 {
			attach(c.ingress)
		}
		dnsrr := s.Spec.EndpointSpec != nil && s.Spec.EndpointSpec.Mode == swarm.ResolutionModeDNSRR
		for _, id := range order {
			n := c.networks[id]
			vs := netview.Service{ID: s.ID, Name: s.Spec.Name, Aliases: aliasesOn(serviceAttachments(s), n)}
			if !dnsrr {
				for _, v := range s.Endpoint.VirtualIPs {
					if v.NetworkID == id {
						vs.VIP = stripPrefix(v.Addr)
					}
				}
			}
			if n.Spec.Ingress {
				vs.Ports = ports
			}
			c.services[id] = append(c.services[id], vs) // services come in ID order
		}
	}

	vteps := map[string]string{}
	for _, n := range tx.ListNodes() {
		vteps[n.ID] = n.Status.Addr
		// every node's ingress sandbox is an endpoint of the ingress network (no task, no name):
		// the tasks behind a published port answer it across the VXLAN
		if c.ingress != nil && n.Status.Addr != "" && onIngress(c.ingress, n.IngressAddr) {
			c.endpoints[c.ingress.ID] = append(c.endpoints[c.ingress.ID], netview.Endpoint{NodeID: n.ID,
				IP: stripPrefix(n.IngressAddr), VTEP: n.Status.Addr})
		}
	}
	for _, state := range endpointStates {
		for _, t := range tx.TasksByState(state) {
			if t.NodeID == "" || !taskstate.AtMost(t.DesiredState, swarm.TaskStateRunning) {
				continue
			}
			configs := t.Spec.Networks
			if len(configs) == 0 && svcs[t.ServiceID] != nil {
				configs = serviceAttachments(svcs[t.ServiceID])
			}
			for _, att := range t.NetworksAttachments {
				n := c.networks[att.Network.ID]
				if n == nil || len(att.Addresses) == 0 {
					continue
				}
				names := []string{containerName(t), t.ID}
				for _, a := range aliasesOn(configs, n) {
					if !contains(names, a) {
						names = append(names, a)
					}
				}
				c.endpoints[n.ID] = append(c.endpoints[n.ID], netview.Endpoint{TaskID: t.ID, ServiceID: t.ServiceID,
					NodeID: t.NodeID, IP: stripPrefix(att.Addresses[0]), VTEP: vteps[t.NodeID], Names: names,
					Running: t.Status.State == swarm.TaskStateRunning})
			}
		}
	}
	for _, eps := range c.endpoints {
		sort.Slice(eps, func(i, j int) bool {
			if eps[i].TaskID != eps[j].TaskID {
				return eps[i].TaskID < eps[j].TaskID
			}
			return eps[i].NodeID < eps[j].NodeID // the nodes' ingress sandboxes come first
		})
	}
	return c
}

// nodeView is one node's view (see NodeNetworks).
func (c *clusterNets) nodeView(tx store.ReadTx, nodeID string) netview.NodeView {
	want := map[string]bool{}
	for _, t := range tx.TasksByNode(nodeID) {
		if taskstate.Before(t.Status.State, swarm.TaskStateAssigned) || taskstate.Terminal(t.Status.State) {
			continue
		}
		for _, att := range t.NetworksAttachments {
			if c.networks[att.Network.ID] != nil {
				want[att.Network.ID] = true
			}
		}
	}
	if c.mesh && c.ingress != nil {
		want[c.ingress.ID] = true
	}
	v := netview.NodeView{Networks: make([]netview.Network, 0, len(want))}
	for id := range want {
		v.Networks = append(v.Networks, c.network(id))
	}
	sort.Slice(v.Networks, func(i, j int) bool { return v.Networks[i].ID < v.Networks[j].ID })
	if c.ingress != nil && want[c.ingress.ID] {
		if n := tx.GetNode(nodeID); n != nil {
			if onIngress(c.ingress, n.IngressAddr) {
				v.IngressAddr = n.IngressAddr
			}
		}
	}
	return v
}

// onIngress tells whether a node's ingress address is on the ingress network's subnet.
func onIngress(ingress *store.Network, addr string) bool {
	subnet, _, _ := overlaySubnet(ingress)
	p, err := netip.ParsePrefix(addr)
	return err == nil && subnet.Contains(p.Addr())
}

// network assembles network id once.
func (c *clusterNets) network(id string) netview.Network {
	if n, ok := c.built[id]; ok {
		return n
	}
	n := c.networks[id]
	subnet, gw, _ := overlaySubnet(n)
	out := netview.Network{ID: n.ID, Name: n.Spec.Name, VNI: n.VNI, Subnet: subnet.String(), Ingress: n.Spec.Ingress,
		Internal: n.Spec.Internal, Endpoints: c.endpoints[id], Services: c.services[id]}
	if gw.IsValid() {
		out.Gateway = gw.String()
	}
	if out.Endpoints == nil {
		out.Endpoints = []netview.Endpoint{}
	}
	if out.Services == nil {
		out.Services = []netview.Service{}
	}
	c.built[id] = out
	return out
}

// overlaySubnet gives the IPv4 subnet and gateway of an allocated overlay network; false for other
// networks (the predefined host and bridge networks, other drivers) and for overlays not allocated
// yet (no IPv4 subnet or no VNI).
func overlaySubnet(n *store.Network) (netip.Prefix, netip.Addr, bool) {
	if d := n.Spec.DriverConfiguration; d != nil && d.Name != "" && d.Name != "overlay" {
		return netip.Prefix{}, netip.Addr{}, false
	}
	if n.VNI == 0 || n.IPAMOptions == nil {
		return netip.Prefix{}, netip.Addr{}, false
	}
	for _, cfg := range n.IPAMOptions.Configs {
		p, err := netip.ParsePrefix(cfg.Subnet)
		if err != nil || !p.Addr().Is4() {
			continue
		}
		gw, _ := netip.ParseAddr(cfg.Gateway)
		return p.Masked(), gw, true
	}
	return netip.Prefix{}, netip.Addr{}, false
}

// serviceAttachments gives the networks a service's tasks attach to (TaskTemplate.Networks, else
// the deprecated ServiceSpec.Networks).
func serviceAttachments(s *store.Service) []swarm.NetworkAttachmentConfig {
	if len(s.Spec.TaskTemplate.Networks) > 0 {
		return s.Spec.TaskTemplate.Networks
	}
	return s.Spec.Networks
}

// aliasesOn gives the aliases the attachment configs name for network n (matched by ID or name).
func aliasesOn(configs []swarm.NetworkAttachmentConfig, n *store.Network) []string {
	var out []string
	for _, c := range configs {
		if c.Target != n.ID && !strings.EqualFold(c.Target, n.Spec.Name) {
			continue
		}
		for _, a := range c.Aliases {
			if a != "" && !contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// ingressPorts gives the ports a service publishes in ingress mode, as allocated.
func ingressPorts(s *store.Service) []netview.Port {
	var out []netview.Port
	for _, p := range s.Endpoint.Ports {
		if p.PublishedPort == 0 || (p.PublishMode != "" && p.PublishMode != swarm.PortConfigPublishModeIngress) {
			continue
		}
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(swarm.PortConfigProtocolTCP)
		}
		out = append(out, netview.Port{Protocol: proto, PublishedPort: p.PublishedPort, TargetPort: p.TargetPort})
	}
	return out
}

// stripPrefix gives the address of "10.0.1.5/24" ("10.0.1.5"); an address without a prefix is
// returned as it is.
func stripPrefix(cidr string) string {
	if p, err := netip.ParsePrefix(cidr); err == nil {
		return p.Addr().String()
	}
	return cidr
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
