package executor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/overlay/kernel"
	"github.com/shoal-project/shoal/runtime/container"
	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/netview"
)

// Networks is the node's overlay data plane as the executor uses it (overlay.Manager).
type Networks interface {
	// Attach makes the network namespace of a task's container, plugged into its overlay
	// networks and the node's gateway bridge, with the ports it publishes in host mode, and
	// returns its path. Tasks on the node's own network are not attached.
	Attach(ctx context.Context, t swarm.Task, hostPorts []swarm.PortConfig, upstream []string) (string, error)
	// Detach undoes Attach once the container is gone.
	Detach(taskID string)
	// Drain waits, at most until ctx ends, until the task is no longer a load-balancing backend
	// anywhere, before its container is stopped.
	Drain(ctx context.Context, taskID string)
	ApplyNetworks(ctx context.Context, v netview.NodeView) error
}

var _ agent.NetworkApplier = (*Executor)(nil)

// SetNetworks gives the executor the node's overlay data plane; without one, task containers
// get a network namespace with loopback only.
func (e *Executor) SetNetworks(n Networks) { e.nets = n }

// ApplyNetworks implements agent.NetworkApplier.
func (e *Executor) ApplyNetworks(ctx context.Context, v netview.NodeView) error {
	if e.nets == nil {
		return nil
	}
	return e.nets.ApplyNetworks(ctx, v)
}

// embeddedDNS is the resolv.conf of a container on an overlay network, as Docker writes it:
// the embedded server at 127.0.0.11 with ndots:0, the search domains of the spec (or the host's).
func embeddedDNS(d swarm.DNSConfig) swarm.DNSConfig {
	out := swarm.DNSConfig{Nameservers: []string{"127.0.0.11"}, Search: d.Search, Options: slices.Clone(d.Options)}
	if !slices.ContainsFunc(out.Options, func(o string) bool { return strings.HasPrefix(o, "ndots:") }) {
		out.Options = append(out.Options, "ndots:0")
	}
	return out
}

// dnsUpstream are the servers the embedded DNS forwards other names to: the spec's, or the
// host's (from the node's network namespace, so loopback resolvers work too).
func dnsUpstream(d *swarm.DNSConfig) []string {
	var ns []string
	if d != nil && len(d.Nameservers) > 0 {
		ns = d.Nameservers
	} else if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "nameserver" {
				ns = append(ns, f[1])
			}
		}
	}
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, net.JoinHostPort(n, "53"))
	}
	return out
}

// endpoints are the task's overlay networks as the container's inspect shows them: name, address,
// MAC, the service's aliases there, and the DNS names the embedded DNS answers for the task.
func endpoints(t swarm.Task, containerName, containerID string) []container.NetworkEndpoint {
	var out []container.NetworkEndpoint
	for _, na := range t.NetworksAttachments {
		n := na.Network
		if n.Spec.Labels["com.docker.swarm.predefined"] == "true" || len(na.Addresses) == 0 {
			continue
		}
		ep := container.NetworkEndpoint{Name: n.Spec.Name, NetworkID: n.ID, Address: na.Addresses[0]}
		sum := sha256.Sum256([]byte(t.ID + "/" + n.ID))
		ep.EndpointID = hex.EncodeToString(sum[:])
		if p, err := netip.ParsePrefix(na.Addresses[0]); err == nil {
			ep.MacAddress = kernel.MACFor(p.Addr()).String()
		}
		for _, c := range t.Spec.Networks {
			if c.Target == n.ID || strings.EqualFold(c.Target, n.Spec.Name) {
				ep.Aliases = append(ep.Aliases, c.Aliases...)
			}
		}
		ep.DNSNames = append([]string{containerName, containerID[:12]}, ep.Aliases...)
		out = append(out, ep)
	}
	return out
}
