package executor

import (
	"context"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/netview"
)

// Networks is the node's overlay data plane as the executor uses it (overlay.Manager).
type Networks interface {
	// Attach makes the network namespace of a task's container, plugged into its overlay
	// networks, and returns its path ("" for a task on no overlay network).
	Attach(ctx context.Context, t swarm.Task, upstream []string) (string, error)
	// Detach undoes Attach once the container is gone.
	Detach(taskID string)
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
