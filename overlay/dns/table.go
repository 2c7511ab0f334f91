package dns

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/swarm/netview"
)

// Table is the swarm's names as one container sees them (only the networks it is attached to).
// It is immutable once built and safe for concurrent use; a *Table is a Resolver.
//
// Per network, as Docker's service discovery (moby libnetwork/service_common.go,
// addEndpointNameResolution):
//   - a service name and each of its aliases: the VIP in vip mode, the addresses of its running
//     tasks in dnsrr mode;
//   - tasks.<service name> and tasks.<alias>: the addresses of the service's running tasks;
//   - each name of a running task (netview.Endpoint.Names: container name, task ID, aliases):
//     the task's address. A service alias thus gives the VIP and the task addresses, as Docker.
//
// The ingress network carries no names (Docker's addSvcRecords skips it). A name found in
// several networks is answered from the first, in the order the container's networks were
// given. A name "x.<network name>" is x looked up in that network only (Docker's
// Sandbox.ResolveName).
type Table struct {
	nets []tableNet // in resolution order
}

// tableNet is one network's names.
type tableNet struct {
	name  string                  // the network's name, lower case
	addrs map[string][]netip.Addr // lower-case name -> addresses (present but empty: ours, none)
	ptr   map[netip.Addr]string   // task address -> "<container name>.<network name>"
}

// NewTable builds the names seen by a container attached to the networks networkIDs (in the
// order of its attachments) from the node's view. IDs absent from v are ignored.
func NewTable(v netview.NodeView, networkIDs []string) *Table {
	byID := make(map[string]*netview.Network, len(v.Networks))
	for i := range v.Networks {
		byID[v.Networks[i].ID] = &v.Networks[i]
	}
	t := &Table{}
	seen := map[string]bool{}
	for _, id := range networkIDs {
		n := byID[id]
		if n == nil || n.Ingress || seen[id] {
			continue
		}
		seen[id] = true
		t.nets = append(t.nets, buildNet(n))
	}
	return t
}

func buildNet(n *netview.Network) tableNet {
	tn := tableNet{
		name:  strings.ToLower(n.Name),
		addrs: map[string][]netip.Addr{},
		ptr:   map[netip.Addr]string{},
	}
	add := func(name string, ips ...netip.Addr) {
		name = normalizeName(name)
		if name == "" {
			return
		}
		cur, ok := tn.addrs[name]
		if !ok {
			cur = []netip.Addr{}
		}
		for _, ip := range ips {
			if !slices.Contains(cur, ip) {
				cur = append(cur, ip)
			}
		}
		tn.addrs[name] = cur
	}

	running := map[string][]netip.Addr{} // service ID -> running task addresses
	for _, e := range n.Endpoints {
		if ip, ok := endpointAddr(e); ok {
			running[e.ServiceID] = append(running[e.ServiceID], ip)
		}
	}
	for _, s := range n.Services {
		names := append([]string{s.Name}, s.Aliases...)
		tasks := running[s.ID]
		vip, err := netip.ParseAddr(s.VIP)
		for _, name := range names {
			if name == "" {
				continue
			}
			if err == nil {
				add(name, vip.Unmap())
			} else {
				add(name, tasks...)
			}
			add("tasks."+name, tasks...)
		}
	}
	for _, e := range n.Endpoints {
		ip, ok := endpointAddr(e)
		if !ok {
			continue
		}
		for _, name := range e.Names {
			add(name, ip)
		}
		if len(e.Names) > 0 && e.Names[0] != "" {
			if _, dup := tn.ptr[ip]; !dup {
				tn.ptr[ip] = e.Names[0] + "." + n.Name
			}
		}
	}
	return tn
}

// endpointAddr is the address of a running task's endpoint; endpoints of tasks that do not run
// have no names (Docker adds a container's records when it starts).
func endpointAddr(e netview.Endpoint) (netip.Addr, bool) {
	if !e.Running {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(e.IP)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// normalizeName is a name as the tables key it: lower case, no trailing dot.
func normalizeName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// Lookup returns the addresses of name (case-insensitive, a trailing dot ignored) and whether
// the name is the swarm's. Tried in Docker's order: the whole name in every network, then for
// "a.b.c": "a.b" in network "c", then "a" in network "b.c". The first network with addresses
// answers; a name known but without addresses anywhere is ours with no addresses.
func (t *Table) Lookup(name string) (ips []netip.Addr, ours bool) {
	if t == nil {
		return nil, false
	}
	name = normalizeName(name)
	if name == "" {
		return nil, false
	}
	ips, ours = t.lookupIn(name, "")
	if len(ips) > 0 {
		return ips, true
	}
	for rest := name; ; {
		i := strings.LastIndexByte(rest, '.')
		if i <= 0 {
			break
		}
		rest = name[:i]
		got, ok := t.lookupIn(rest, name[i+1:])
		if len(got) > 0 {
			return got, true
		}
		ours = ours || ok
	}
	return nil, ours
}

// lookupIn looks name up in the network named network, or in all when network is "".
func (t *Table) lookupIn(name, network string) (ips []netip.Addr, ours bool) {
	for _, n := range t.nets {
		if network != "" && n.name != network {
			continue
		}
		got, ok := n.addrs[name]
		if !ok {
			continue
		}
		if len(got) > 0 {
			return slices.Clone(got), true
		}
		ours = true
	}
	return nil, ours
}

// Reverse returns the name of the running task with address ip, "<container name>.<network
// name>" as Docker's Network.ResolveIP, from the first network that has it. Other addresses
// (VIPs included, as in Docker) are not ours.
func (t *Table) Reverse(ip netip.Addr) (names []string, ours bool) {
	if t == nil {
		return nil, false
	}
	ip = ip.Unmap()
	for _, n := range t.nets {
		if name, ok := n.ptr[ip]; ok {
			return []string{name}, true
		}
	}
	return nil, false
}
