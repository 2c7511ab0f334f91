// Package kernel makes the kernel state of shoal's overlay data plane with netlink:
// network namespaces bind-mounted under a directory of the caller's, one netns per overlay
// network holding a bridge (br0, the gateway address) and a VXLAN device, veth pairs that attach
// container namespaces to those bridges (or to a bridge in the node's netns such as
// shoal_gwbridge), and the static forwarding entries of remote endpoints.
//
// The model is Docker's overlay driver. The VXLAN device vx-<vni> is created in the caller's
// netns and then moved into the network's netns, so that its UDP socket (port 4789) stays in the
// caller's netns, where the node's data-path address lives. Learning is off: every remote
// endpoint is a permanent fdb entry (MAC -> remote VTEP) and a permanent neighbour entry
// (IP -> MAC) on the VXLAN device, whose ARP proxy answers the containers' ARP requests, so no
// ARP or other flooded traffic crosses the VXLAN.
//
// "The caller's netns" (the host netns) is the network namespace of the thread that called New,
// not the machine's initial one: in tests and in the multi-host harness each node is a netns.
// Every method is idempotent and safe for concurrent use (calls are serialised); none depends on
// the netns of the calling thread after New.
//
// Names, so that cleanup can find everything: netns files <dir>/ov-<network id[:12]> for
// networks (other names as callers choose for containers), VXLAN devices vx-<vni>, the
// bridge-side ends of veth pairs ve-<10 hex> (a hash of what they connect).
package kernel
