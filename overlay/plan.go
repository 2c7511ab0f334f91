package overlay

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/overlay/kernel"
	"github.com/shoal-project/shoal/overlay/lb"
	"github.com/shoal-project/shoal/swarm/netview"
)

// vxlanIDOption is where the allocator keeps an overlay network's VNI in its driver state.
const vxlanIDOption = "com.docker.network.driver.overlay.vxlanid_list"

// attachment is one overlay network a task's container is plugged into, with its address there.
type attachment struct {
	NetworkID string
	Network   kernel.NetworkConfig
	Addr      netip.Prefix // the task's address, "10.0.1.5/24"
	Internal  bool         `json:",omitempty"` // the network has no way out
}

// taskAttachments lists the overlay networks of a task in the order of its attachments (eth0,
// eth1...). The predefined host and bridge networks, and attachments without an address, are not
// overlay attachments.
func taskAttachments(t swarm.Task) ([]attachment, error) {
	var out []attachment
	for _, na := range t.NetworksAttachments {
		n := na.Network
		if n.Spec.Labels["com.docker.swarm.predefined"] == "true" || len(na.Addresses) == 0 {
			continue
		}
		cfg, err := overlayConfig(n)
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", n.Spec.Name, err)
		}
		addr, err := netip.ParsePrefix(na.Addresses[0])
		if err != nil {
			return nil, fmt.Errorf("network %s: address %q: %w", n.Spec.Name, na.Addresses[0], err)
		}
		out = append(out, attachment{NetworkID: n.ID, Network: cfg, Addr: addr, Internal: n.Spec.Internal})
	}
	return out, nil
}

// overlayConfig is the kernel's config of a network as a task's attachment carries it.
func overlayConfig(n swarm.Network) (kernel.NetworkConfig, error) {
	vni, err := strconv.ParseUint(n.DriverState.Options[vxlanIDOption], 10, 32)
	if err != nil || vni == 0 {
		return kernel.NetworkConfig{}, fmt.Errorf("no VXLAN ID allocated")
	}
	if n.IPAMOptions == nil {
		return kernel.NetworkConfig{}, fmt.Errorf("no subnet allocated")
	}
	for _, c := range n.IPAMOptions.Configs {
		cfg, err := kernelConfig(n.ID, uint32(vni), c.Subnet, c.Gateway)
		if err == nil && cfg.Subnet.Addr().Is4() {
			return cfg, nil
		}
	}
	return kernel.NetworkConfig{}, fmt.Errorf("no IPv4 subnet allocated")
}

// viewConfig is the kernel's config of a network as the view carries it.
func viewConfig(n netview.Network) (kernel.NetworkConfig, error) {
	return kernelConfig(n.ID, n.VNI, n.Subnet, n.Gateway)
}

func kernelConfig(id string, vni uint32, subnet, gateway string) (kernel.NetworkConfig, error) {
	s, err := netip.ParsePrefix(subnet)
	if err != nil {
		return kernel.NetworkConfig{}, fmt.Errorf("subnet %q: %w", subnet, err)
	}
	g, err := netip.ParseAddr(gateway)
	if err != nil {
		return kernel.NetworkConfig{}, fmt.Errorf("gateway %q: %w", gateway, err)
	}
	return kernel.NetworkConfig{ID: id, VNI: vni, Subnet: s.Masked(), Gateway: g, Port: vxlanPort}, nil
}

// vxlanPort is the VXLAN UDP port (Docker's default data path port).
const vxlanPort = 4789

// findNetwork returns the view's network with that ID.
func findNetwork(v netview.NodeView, id string) (netview.Network, bool) {
	for _, n := range v.Networks {
		if n.ID == id {
			return n, true
		}
	}
	return netview.Network{}, false
}

// peersOf lists a network's endpoints on other nodes: every endpoint whose VTEP is not one of this
// node's addresses.
func peersOf(n netview.Network, local func(netip.Addr) bool) []kernel.Peer {
	var out []kernel.Peer
	for _, e := range n.Endpoints {
		ip, err1 := netip.ParseAddr(e.IP)
		vtep, err2 := netip.ParseAddr(e.VTEP)
		if err1 != nil || err2 != nil || local(vtep) {
			continue
		}
		out = append(out, kernel.Peer{IP: ip, MAC: kernel.MACFor(ip), VTEP: vtep})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

// isBackend tells whether a task is a running endpoint (a load-balancing backend) in the view.
func isBackend(v netview.NodeView, taskID string) bool {
	for _, n := range v.Networks {
		for _, e := range n.Endpoints {
			if e.TaskID == taskID && e.Running {
				return true
			}
		}
	}
	return false
}

// Peer is a node that carries a network's traffic.
type Peer struct{ NodeID, Addr string }

// networkPeers are the nodes with an endpoint on a network, sorted by node ID.
func networkPeers(n netview.Network) []Peer {
	seen := map[string]bool{}
	var out []Peer
	for _, e := range n.Endpoints {
		if e.NodeID == "" || e.VTEP == "" || seen[e.NodeID] {
			continue
		}
		seen[e.NodeID] = true
		out = append(out, Peer{NodeID: e.NodeID, Addr: e.VTEP})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NodeID < out[j].NodeID })
	return out
}

// backends are the addresses of a service's running tasks on a network.
func backends(n netview.Network, serviceID string) []netip.Addr {
	var out []netip.Addr
	for _, e := range n.Endpoints {
		if e.ServiceID != serviceID || !e.Running {
			continue
		}
		if ip, err := netip.ParseAddr(e.IP); err == nil {
			out = append(out, ip)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// vipsFor lists the virtual IPs a container on networkIDs reaches, with their backends: the VIPs
// of the services on those networks (vip mode only).
func vipsFor(v netview.NodeView, networkIDs []string) []lb.VIP {
	var out []lb.VIP
	for _, id := range networkIDs {
		n, ok := findNetwork(v, id)
		if !ok || n.Ingress {
			continue // the ingress network carries published ports, not service discovery
		}
		for _, s := range n.Services {
			vip, err := netip.ParseAddr(s.VIP)
			if err != nil {
				continue // dnsrr
			}
			out = append(out, lb.VIP{Addr: vip, Backends: backends(n, s.ID)})
		}
	}
	return out
}

// ingressPorts lists the ports published in ingress mode, with the ingress addresses of their
// services' running tasks.
func ingressPorts(n netview.Network) []lb.IngressPort {
	var out []lb.IngressPort
	for _, s := range n.Services {
		if len(s.Ports) == 0 {
			continue
		}
		bs := backends(n, s.ID)
		for _, p := range s.Ports {
			out = append(out, lb.IngressPort{Protocol: p.Protocol, PublishedPort: uint16(p.PublishedPort),
				TargetPort: uint16(p.TargetPort), Backends: bs})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PublishedPort != out[j].PublishedPort {
			return out[i].PublishedPort < out[j].PublishedPort
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

// hostPorts are the node's rules for the published ports: each to the ingress sandbox.
func hostPorts(ports []lb.IngressPort, sandbox netip.Addr) []lb.HostPort {
	out := make([]lb.HostPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, lb.HostPort{Protocol: p.Protocol, Port: p.PublishedPort, Dest: sandbox})
	}
	return out
}

// ingressNetwork returns the view's ingress network.
func ingressNetwork(v netview.NodeView) (netview.Network, bool) {
	for _, n := range v.Networks {
		if n.Ingress {
			return n, true
		}
	}
	return netview.Network{}, false
}

// needsGateway tells whether a task's container gets a way out through the node's gateway bridge:
// as in Docker, unless every network it is on is internal.
func needsGateway(atts []attachment) bool {
	for _, a := range atts {
		if !a.Internal {
			return true
		}
	}
	return len(atts) == 0
}

// nextGatewayAddr is the first address of the gateway subnet from .3 on (.1 is the bridge, .2 the
// ingress sandbox) that is not used.
func nextGatewayAddr(subnet netip.Prefix, used map[netip.Addr]bool) (netip.Prefix, error) {
	a := subnet.Masked().Addr().Next().Next().Next()
	for ; subnet.Contains(a); a = a.Next() {
		if !used[a] && subnet.Contains(a.Next()) { // not the broadcast address
			return netip.PrefixFrom(a, subnet.Bits()), nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free address on the gateway bridge (%s)", subnet)
}

// published is a port a container publishes in host mode.
type published struct {
	Protocol     string
	Port, Target uint16
}

// publishedPorts are the host-mode ports of a task's service that name their port on the node
// (a port left to the node to choose is not forwarded).
func publishedPorts(ports []swarm.PortConfig) []published {
	var out []published
	for _, p := range ports {
		if p.PublishMode != swarm.PortConfigPublishModeHost || p.PublishedPort == 0 || p.TargetPort == 0 ||
			p.PublishedPort > 65535 || p.TargetPort > 65535 {
			continue
		}
		proto := string(p.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, published{Protocol: proto, Port: uint16(p.PublishedPort), Target: uint16(p.TargetPort)})
	}
	return out
}

// hostModePort is one container's host-mode port on the node.
type hostModePort struct {
	taskID    string
	dest      netip.Addr
	published published
}

// gatewayPorts are the node's forwarding rules for the containers' host-mode ports: one per
// protocol and port, the task with the smallest ID first (the scheduler keeps two tasks from
// publishing one port on a node; a task left over from before a change may still hold it); the
// others are dropped.
func gatewayPorts(all []hostModePort) (ports []lb.GatewayPort, dropped []hostModePort) {
	sort.Slice(all, func(i, j int) bool { return all[i].taskID < all[j].taskID })
	taken := map[string]bool{}
	for _, p := range all {
		key := p.published.Protocol + "/" + strconv.Itoa(int(p.published.Port))
		if taken[key] || !p.dest.IsValid() {
			dropped = append(dropped, p)
			continue
		}
		taken[key] = true
		ports = append(ports, lb.GatewayPort{Protocol: p.published.Protocol, Port: p.published.Port, Dest: p.dest, TargetPort: p.published.Target})
	}
	sort.Slice(ports, func(i, j int) bool {
		if ports[i].Port != ports[j].Port {
			return ports[i].Port < ports[j].Port
		}
		return ports[i].Protocol < ports[j].Protocol
	})
	return ports, dropped
}

// networkIDs lists the networks of a container's attachments.
func networkIDs(atts []attachment) []string {
	out := make([]string, len(atts))
	for i, a := range atts {
		out[i] = a.NetworkID
	}
	return out
}
