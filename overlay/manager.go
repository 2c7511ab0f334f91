package overlay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/overlay/dns"
	"github.com/shoal-project/shoal/overlay/kernel"
	"github.com/shoal-project/shoal/overlay/lb"
	"github.com/shoal-project/shoal/swarm/netview"
)

// The node's gateway bridge and the ingress sandbox's place on it, as Docker's docker_gwbridge
// and ingress-sbox.
const (
	gatewayBridge  = "shoal_gwbridge"
	ingressSandbox = "ingress_sbox"
)

// Manager is a node's overlay data plane. Its methods are safe for concurrent use.
type Manager struct {
	k     *kernel.Kernel
	log   *slog.Logger
	state string // <exec-root>/overlay: one record per attached task

	mu        sync.Mutex
	view      netview.NodeView
	sandboxes map[string]*sandbox             // by task ID
	networks  map[string]kernel.NetworkConfig // made in the kernel, by ID
	ingress   bool                            // the ingress sandbox and host rules are in place
	meshPorts []lb.IngressPort                // the published ports in place, with their backends
	meshAddr  string                          // the sandbox's ingress address in place
	gateway   netip.Prefix                    // the gateway bridge's address, once it is made
	// gatewayPorts are the host-mode ports in the gateway table, when gatewaySet.
	gatewayPorts []lb.GatewayPort
	gatewaySet   bool
	// viewChanged is closed (and replaced) when a new view arrives.
	viewChanged chan struct{}
}

// sandbox is one task container's network namespace and what serves it.
type sandbox struct {
	TaskID      string
	NSPath      string
	Attachments []attachment
	Upstream    []string // the DNS servers names that are not the swarm's go to
	// GatewayAddr is the container's address on the node's gateway bridge (its way out); invalid
	// for a container on internal networks only.
	GatewayAddr netip.Prefix `json:",omitempty"`
	// Published are the ports the container publishes in host mode (on its gateway address).
	Published []published `json:",omitempty"`
	dns       *dns.Server
	vips      []lb.VIP // the load balancing in place (a table replaced costs ~25 ms)
	vipsSet   bool     // vips is in place
}

// New makes the data plane of a node whose state lives under execRoot, and takes back the task
// sandboxes a previous shoald left (their containers kept running): their DNS servers start again.
func New(execRoot string, log *slog.Logger) (*Manager, error) {
	k, err := kernel.New(filepath.Join(execRoot, "netns"))
	if err != nil {
		return nil, err
	}
	m := &Manager{k: k, log: log, state: filepath.Join(execRoot, "overlay"),
		sandboxes: map[string]*sandbox{}, networks: map[string]kernel.NetworkConfig{}, viewChanged: make(chan struct{})}
	if err := os.MkdirAll(m.state, 0o700); err != nil {
		return nil, err
	}
	m.adopt()
	return m, nil
}

// Attach makes the network namespace of a task's container and plugs it into the task's overlay
// networks (eth0, eth1... in the order of its attachments), with the DNS server and the service
// load balancing it uses, and into the node's gateway bridge (the next ethN, with the default
// route), its way out, unless all its networks are internal. It returns the namespace's path.
// upstream are the DNS servers for names that are not the swarm's. A task on the node's own network
// is not the data plane's: the executor does not attach it.
func (m *Manager) Attach(ctx context.Context, t swarm.Task, hostPorts []swarm.PortConfig, upstream []string) (string, error) {
	atts, err := taskAttachments(t)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if sb, ok := m.sandboxes[t.ID]; ok {
		return sb.NSPath, nil
	}
	sb := &sandbox{TaskID: t.ID, Attachments: atts, Upstream: upstream, Published: publishedPorts(hostPorts)}
	if err := m.plug(sb); err != nil {
		m.unplug(sb)
		return "", fmt.Errorf("attaching to the task's networks: %w", err)
	}
	m.sandboxes[t.ID] = sb
	if len(sb.Published) > 0 {
		if err := m.applyGateway(); err != nil {
			m.log.Warn("overlay: the host-mode ports", "err", err)
		}
	}
	if err := saveRecord(m.state, sb); err != nil {
		m.log.Warn("overlay: saving the sandbox record", "task", t.ID, "err", err)
	}
	return sb.NSPath, nil
}

// plug makes a sandbox's namespace and interfaces and starts what serves it.
func (m *Manager) plug(sb *sandbox) error {
	for _, a := range sb.Attachments {
		if err := m.ensureNetwork(a.Network); err != nil {
			return err
		}
	}
	ns, err := m.k.NewNetNS(sandboxName(sb.TaskID))
	if err != nil {
		return err
	}
	sb.NSPath = ns
	for i, a := range sb.Attachments {
		if err := m.k.AttachContainer(a.NetworkID, ns, fmt.Sprintf("eth%d", i), a.Addr); err != nil {
			return err
		}
	}
	if needsGateway(sb.Attachments) {
		gw, err := m.ensureGateway()
		if err != nil {
			return err
		}
		if sb.GatewayAddr, err = nextGatewayAddr(gw.Masked(), m.gatewayUsed()); err != nil {
			return err
		}
		if err := m.k.AttachToBridge(gatewayBridge, ns, gatewayIf(sb), sb.GatewayAddr, gw.Addr()); err != nil {
			return err
		}
	}
	if len(sb.Attachments) == 0 {
		return nil // no overlay network: no service discovery, as on Docker's default bridge
	}
	return m.serve(sb)
}

// gatewayIf is the name of a container's interface on the gateway bridge: the one after its
// overlay networks'.
func gatewayIf(sb *sandbox) string { return fmt.Sprintf("eth%d", len(sb.Attachments)) }

// ensureGateway makes the node's gateway bridge and its table (the way out of the containers on
// it), and returns the bridge's address.
func (m *Manager) ensureGateway() (netip.Prefix, error) {
	if m.gateway.IsValid() {
		return m.gateway, nil
	}
	gw, _, err := gatewaySubnet(ifaceAddrs())
	if err != nil {
		return netip.Prefix{}, err
	}
	if err := m.k.EnsureBridge(gatewayBridge, gw); err != nil {
		return netip.Prefix{}, err
	}
	if err := lb.EnableRouteLocalnet(gatewayBridge); err != nil {
		return netip.Prefix{}, err
	}
	m.gateway = gw
	if err := m.applyGateway(); err != nil {
		m.gateway = netip.Prefix{}
		return netip.Prefix{}, err
	}
	return gw, nil
}

// applyGateway puts the node's gateway table in place: the containers' way out and the ports they
// publish in host mode.
func (m *Manager) applyGateway() error {
	if !m.gateway.IsValid() {
		return nil
	}
	var all []hostModePort
	for _, sb := range m.sandboxes {
		for _, p := range sb.Published {
			all = append(all, hostModePort{taskID: sb.TaskID, dest: sb.GatewayAddr.Addr(), published: p})
		}
	}
	ports, dropped := gatewayPorts(all)
	for _, d := range dropped {
		m.log.Warn("overlay: a host-mode port is already published on this node", "task", d.taskID, "port", d.published.Port)
	}
	if m.gatewaySet && reflect.DeepEqual(m.gatewayPorts, ports) {
		return nil // in place (a table replaced costs ~25 ms)
	}
	if err := lb.ApplyGateway(gatewayBridge, m.gateway.Masked(), ports); err != nil {
		m.gatewaySet = false
		return err
	}
	m.gatewayPorts, m.gatewaySet = ports, true
	return nil
}

// gatewayUsed are the containers' addresses on the gateway bridge (the bridge's and the ingress
// sandbox's, .1 and .2, come before any nextGatewayAddr gives).
func (m *Manager) gatewayUsed() map[netip.Addr]bool {
	used := map[netip.Addr]bool{}
	for _, sb := range m.sandboxes {
		if sb.GatewayAddr.IsValid() {
			used[sb.GatewayAddr.Addr()] = true
		}
	}
	return used
}

// serve starts a sandbox's DNS server and puts its load-balancing rules in place, from the view.
func (m *Manager) serve(sb *sandbox) error {
	ids := networkIDs(sb.Attachments)
	srv, err := dns.Serve(sb.NSPath, dns.NewTable(m.view, ids), sb.Upstream, m.log)
	if err != nil {
		return err
	}
	sb.dns = srv
	return m.applyVIPs(sb, vipsFor(m.view, ids))
}

// applyVIPs puts a sandbox's load-balancing rules in place unless they already are.
func (m *Manager) applyVIPs(sb *sandbox, vips []lb.VIP) error {
	if sb.vipsSet && reflect.DeepEqual(sb.vips, vips) {
		return nil
	}
	if err := lb.ApplyVIPs(sb.NSPath, vips); err != nil {
		sb.vipsSet = false
		return err
	}
	sb.vips, sb.vipsSet = vips, true
	return nil
}

// unplug undoes plug, as far as it went.
func (m *Manager) unplug(sb *sandbox) {
	if sb.dns != nil {
		sb.dns.Close()
		sb.dns = nil
	}
	if sb.NSPath == "" {
		return
	}
	for i, a := range sb.Attachments {
		if err := m.k.DetachContainer(a.NetworkID, sb.NSPath, fmt.Sprintf("eth%d", i)); err != nil {
			m.log.Debug("overlay: detach", "task", sb.TaskID, "err", err)
		}
	}
	if sb.GatewayAddr.IsValid() {
		if err := m.k.DetachFromBridge(sb.NSPath, gatewayIf(sb)); err != nil {
			m.log.Debug("overlay: detach from the gateway bridge", "task", sb.TaskID, "err", err)
		}
	}
	if err := m.k.RemoveNetNS(sandboxName(sb.TaskID)); err != nil {
		m.log.Warn("overlay: removing a task's network namespace", "task", sb.TaskID, "err", err)
	}
}

// Detach undoes Attach once the task's container is gone; networks no container uses any more
// are removed (but the ingress network, which the routing mesh needs).
func (m *Manager) Detach(taskID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sb, ok := m.sandboxes[taskID]
	if !ok {
		return
	}
	delete(m.sandboxes, taskID)
	m.unplug(sb)
	removeRecord(m.state, taskID)
	m.pruneNetworks()
	if len(sb.Published) > 0 {
		if err := m.applyGateway(); err != nil {
			m.log.Warn("overlay: the host-mode ports", "err", err)
		}
	}
}

// ensureNetwork makes a network's namespace, bridge and VXLAN device, with its peers from the view.
func (m *Manager) ensureNetwork(cfg kernel.NetworkConfig) error {
	if _, ok := m.networks[cfg.ID]; ok {
		return nil
	}
	if err := m.k.EnsureNetwork(cfg); err != nil {
		return err
	}
	m.networks[cfg.ID] = cfg
	if n, ok := findNetwork(m.view, cfg.ID); ok {
		return m.k.SetPeers(cfg.ID, peersOf(n, localAddrs()))
	}
	return nil
}

// pruneNetworks removes the networks that no sandbox uses, but the ingress network while the
// routing mesh runs.
func (m *Manager) pruneNetworks() {
	used := map[string]bool{}
	for _, sb := range m.sandboxes {
		for _, a := range sb.Attachments {
			used[a.NetworkID] = true
		}
	}
	if in, ok := ingressNetwork(m.view); ok && m.ingress {
		used[in.ID] = true
	}
	for id := range m.networks {
		if used[id] {
			continue
		}
		if err := m.k.RemoveNetwork(id); err != nil {
			m.log.Warn("overlay: removing a network", "network", id, "err", err)
			continue
		}
		delete(m.networks, id)
	}
}

// ApplyNetworks takes a new view of the networks: VXLAN peers, DNS tables and load-balancing
// rules follow it, and the routing mesh serves its published ports. It goes on past a failure and
// returns them all.
func (m *Manager) ApplyNetworks(ctx context.Context, v netview.NodeView) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.view = v
	close(m.viewChanged)
	m.viewChanged = make(chan struct{})
	var errs []error
	local := localAddrs()
	for id := range m.networks {
		n, ok := findNetwork(v, id)
		if !ok {
			continue // no endpoint news: keep the peers it had
		}
		if err := m.k.SetPeers(id, peersOf(n, local)); err != nil {
			errs = append(errs, fmt.Errorf("peers of network %s: %w", id, err))
		}
	}
	for _, sb := range m.sandboxes {
		if len(sb.Attachments) == 0 {
			continue // on the gateway bridge only: no service discovery
		}
		ids := networkIDs(sb.Attachments)
		if sb.dns != nil {
			sb.dns.SetResolver(dns.NewTable(v, ids))
		}
		if err := m.applyVIPs(sb, vipsFor(v, ids)); err != nil {
			errs = append(errs, fmt.Errorf("load balancing of task %s: %w", sb.TaskID, err))
		}
	}
	if err := m.applyIngress(v, local); err != nil {
		errs = append(errs, fmt.Errorf("routing mesh: %w", err))
	}
	return errors.Join(errs...)
}

// applyIngress runs the routing mesh: the ingress sandbox on the ingress network and the gateway
// bridge, balancing each published port over its service's tasks, and the node's rules sending
// the published ports to it.
func (m *Manager) applyIngress(v netview.NodeView, local func(netip.Addr) bool) error {
	in, ok := ingressNetwork(v)
	var ports []lb.IngressPort
	if ok {
		ports = ingressPorts(in)
	}
	addr, err := netip.ParsePrefix(v.IngressAddr)
	if !ok || len(ports) == 0 || err != nil {
		if !m.ingress || m.meshPorts == nil {
			return nil
		}
		// nothing published any more: the node stops answering on the ports
		if err := lb.ApplyIngressHost(nil); err != nil {
			return err
		}
		m.meshPorts = nil
		return nil
	}
	if m.ingress && m.meshAddr == v.IngressAddr && reflect.DeepEqual(m.meshPorts, ports) {
		return nil // in place; the network's peers follow the view with the others'
	}
	m.meshPorts = nil // until the new ones are in place
	cfg, err := viewConfig(in)
	if err != nil {
		return err
	}
	if err := m.ensureNetwork(cfg); err != nil {
		return err
	}
	if err := m.k.SetPeers(in.ID, peersOf(in, local)); err != nil {
		return err
	}
	ns, err := m.k.NewNetNS(ingressSandbox)
	if err != nil {
		return err
	}
	if err := m.k.AttachContainer(in.ID, ns, "eth0", addr); err != nil {
		return err
	}
	gatewayAddr, err := m.ensureGateway()
	if err != nil {
		return err
	}
	sandboxAddr := sandboxOn(gatewayAddr)
	if err := m.k.AttachToBridge(gatewayBridge, ns, "eth1", sandboxAddr, gatewayAddr.Addr()); err != nil {
		return err
	}
	m.ingress = true
	if err := lb.ApplyIngressSandbox(ns, ports, "eth0"); err != nil {
		return err
	}
	if err := lb.ApplyIngressHost(hostPorts(ports, sandboxAddr.Addr())); err != nil {
		return err
	}
	m.meshPorts, m.meshAddr = ports, v.IngressAddr
	return nil
}

// gatewaySubnet chooses the gateway bridge's address and the ingress sandbox's on it: the bridge's
// own when it has one, else the first of 172.18.0.0/16 ... 172.31.0.0/16 that no interface of the
// node overlaps (as Docker picks docker_gwbridge's subnet from its pools).
func gatewaySubnet(addrs map[string][]netip.Prefix) (gateway, sandbox netip.Prefix, err error) {
	at := hostOn
	for _, p := range addrs[gatewayBridge] {
		if p.Addr().Is4() {
			return p, at(p, 2), nil
		}
	}
	for second := byte(18); second <= 31; second++ {
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{172, second, 0, 0}), 16)
		free := true
		for name, ps := range addrs {
			for _, p := range ps {
				if name != gatewayBridge && p.Overlaps(cand) {
					free = false
				}
			}
		}
		if free {
			return at(cand, 1), at(cand, 2), nil
		}
	}
	return netip.Prefix{}, netip.Prefix{}, errors.New("no free subnet for the gateway bridge in 172.18.0.0/16-172.31.0.0/16")
}

// hostOn is the address host of a /16 or /24 subnet (the last byte), with the subnet's length.
func hostOn(p netip.Prefix, host byte) netip.Prefix {
	a := p.Masked().Addr().As4()
	a[3] = host
	return netip.PrefixFrom(netip.AddrFrom4(a), p.Bits())
}

// sandboxOn is the ingress sandbox's address on the gateway bridge: .2 of its subnet.
func sandboxOn(gateway netip.Prefix) netip.Prefix { return hostOn(gateway, 2) }

// ifaceAddrs are the addresses of the node's interfaces, by interface name.
func ifaceAddrs() map[string][]netip.Prefix {
	out := map[string][]netip.Prefix{}
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				out[i.Name] = append(out[i.Name], p)
			}
		}
	}
	return out
}

// Drain waits until the view no longer counts a task among the running backends of its services
// (its desired state moved past running: the dispatcher took it out of every node's view), and a
// moment more for the other nodes to apply theirs, so that stopping its container then interrupts
// no new connection; at most until ctx ends. A task that was never a backend returns at once.
func (m *Manager) Drain(ctx context.Context, taskID string) {
	waited := false
	for {
		m.mu.Lock()
		backend, changed := isBackend(m.view, taskID), m.viewChanged
		m.mu.Unlock()
		if !backend {
			break
		}
		waited = true
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
	if !waited {
		return
	}
	t := time.NewTimer(drainSettle)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// drainSettle is how long Drain lets the other nodes apply a view that took a task out of the
// load balancing (a container's rules take about 25 ms).
const drainSettle = 250 * time.Millisecond

// Peers are the nodes that carry a network's traffic, as the last view tells them: each node with
// an endpoint on it (this one included), by node ID, with its address.
func (m *Manager) Peers(networkID string) []Peer {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := findNetwork(m.view, networkID)
	if !ok {
		return nil
	}
	return networkPeers(n)
}

// Close stops the DNS servers; the kernel state stays for the next shoald, whose containers keep
// running meanwhile.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sb := range m.sandboxes {
		if sb.dns != nil {
			sb.dns.Close()
			sb.dns = nil
		}
	}
}

// Reset removes all of the data plane (the node left the swarm): sandboxes, networks, the
// routing mesh and the records.
func (m *Manager) Reset() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, sb := range m.sandboxes {
		m.unplug(sb)
		removeRecord(m.state, id)
	}
	m.sandboxes = map[string]*sandbox{}
	m.networks = map[string]kernel.NetworkConfig{}
	m.ingress = false
	m.meshPorts, m.meshAddr = nil, ""
	m.gateway = netip.Prefix{}
	m.gatewayPorts, m.gatewaySet = nil, false
	if err := m.k.RemoveBridge(gatewayBridge); err != nil {
		m.log.Warn("overlay: removing the gateway bridge", "err", err)
	}
	m.view = netview.NodeView{}
	return errors.Join(lb.RemoveAll(""), m.k.Cleanup())
}

// adopt takes back the sandboxes of the records a previous shoald left whose namespace is still
// there; the others are forgotten.
func (m *Manager) adopt() {
	for _, sb := range loadRecords(m.state, m.log) {
		if _, err := os.Stat(sb.NSPath); err != nil {
			removeRecord(m.state, sb.TaskID)
			continue
		}
		for _, a := range sb.Attachments {
			if err := m.ensureNetwork(a.Network); err != nil {
				m.log.Warn("overlay: network of an adopted task", "task", sb.TaskID, "err", err)
			}
		}
		if sb.GatewayAddr.IsValid() {
			if _, err := m.ensureGateway(); err != nil {
				m.log.Warn("overlay: the gateway bridge of an adopted task", "task", sb.TaskID, "err", err)
			}
		}
		if len(sb.Attachments) > 0 {
			if err := m.serve(sb); err != nil {
				m.log.Warn("overlay: serving an adopted task", "task", sb.TaskID, "err", err)
			}
		}
		m.sandboxes[sb.TaskID] = sb
	}
	if err := m.applyGateway(); err != nil {
		m.log.Warn("overlay: the host-mode ports", "err", err)
	}
}

// sandboxName is the name of a task's network namespace file.
func sandboxName(taskID string) string { return "task-" + taskID }

// localAddrs reports whether an address is one of this node's (in shoald's network namespace).
func localAddrs() func(netip.Addr) bool {
	set := map[netip.Addr]bool{}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			set[p.Addr().Unmap()] = true
		}
	}
	return func(ip netip.Addr) bool { return set[ip.Unmap()] }
}
