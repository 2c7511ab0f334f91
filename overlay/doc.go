// Package overlay is a node's overlay network data plane, as Docker's overlay driver and its
// embedded DNS and service load balancing build it, without IPVS: for every task container on an
// overlay network it makes the container's network namespace, plugs it into the network's
// namespace (a bridge with a VXLAN device, overlay/kernel), serves the container's DNS at
// 127.0.0.11 (overlay/dns), and balances connections to the services' virtual IPs over their
// running tasks (nftables, overlay/lb). From each new view of the networks (swarm/netview) it keeps
// the VXLAN peers, DNS tables and load-balancing rules current, and runs the ingress routing mesh:
// a port published in ingress mode answers on every node.
//
// The decisions are pure functions of the view and the local attachments (plan.go); Manager is the
// shell that applies them to the kernel.
package overlay
