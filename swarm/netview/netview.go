// Package netview holds what one node needs to know of the overlay networks its tasks use: their
// VXLAN identity and subnet, every task endpoint on them across the cluster (for the VXLAN peers,
// the embedded DNS and the VIP load balancing), and the services attached to them. Managers compute
// a NodeView per node from the store; the node's agent hands it to its network data plane.
package netview

// NodeView is what one node needs to know of the overlay networks its tasks use.
type NodeView struct {
	Networks []Network // sorted by ID
	// IngressAddr is this node's own address on the ingress network ("10.0.0.3/24"), for its
	// ingress sandbox; "" when there is no ingress network.
	IngressAddr string `json:",omitempty"`
}

// Network is one overlay network as a node sees it.
type Network struct {
	ID, Name  string
	VNI       uint32
	Subnet    string     // "10.0.1.0/24"
	Gateway   string     // "10.0.1.1"
	Ingress   bool       `json:",omitempty"`
	Internal  bool       `json:",omitempty"`
	Endpoints []Endpoint // tasks with an address on this network, on every node; sorted by TaskID then NodeID
	Services  []Service  // services attached to this network; sorted by ID
}

// Endpoint is one task's address on a network; on the ingress network, also each node's ingress
// sandbox (no task, no names), which the tasks behind a published port answer.
type Endpoint struct {
	TaskID, ServiceID, NodeID string
	IP                        string // "10.0.1.5" (no prefix)
	VTEP                      string // the data-path address of the endpoint's node ("198.18.0.2")
	// Names are the DNS names of this task on this network: its container name
	// (<service>.<slot>.<task id>), its task ID, and its service's aliases on this network.
	Names   []string
	Running bool `json:",omitempty"` // the task runs: a load-balancing backend
}

// Service is a service attached to a network.
type Service struct {
	ID, Name string
	VIP      string   // "10.0.1.2" in vip mode; "" in dnsrr mode
	Aliases  []string `json:",omitempty"` // the service's network aliases on this network
	Ports    []Port   `json:",omitempty"` // ingress-mode published ports (on the ingress network only)
}

// Port is a port a service publishes in ingress mode.
type Port struct {
	Protocol      string // "tcp", "udp", "sctp"
	PublishedPort uint32
	TargetPort    uint32
}
