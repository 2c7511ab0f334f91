// Package lb programs the overlay's load balancing with nftables: the
// service VIPs inside each task container's network namespace (table
// ip shoal-lb) and the ingress routing mesh (table ip shoal-ingress, in
// the ingress sandbox and in the node's own namespace).
//
// Every Apply call replaces its table in one nftables batch (create,
// delete, recreate), so a change is atomic: the kernel never sees a
// half-written rule set. Balancing is round robin per connection
// (numgen inc over a map of backends), as kube-proxy's nftables mode and
// Docker's IPVS do; conntrack keeps a connection on its backend.
//
// The package only touches tables of its own (named shoal-*); it needs
// nftables with the nat, numgen, fib, masq, reject and conntrack
// expressions, and no IPVS.
package lb
