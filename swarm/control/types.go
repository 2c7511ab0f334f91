package control

// New makes the backend for a node whose swarm membership is started and stopped by lc. current is
// the membership restored at start (nil when the node is not in a swarm).
func New(lc Lifecycle, current Node) *Cluster {
	return &Cluster{lifecycle: lc, node: current}
}

// CurrentNode is the membership in force now (nil outside a swarm).
func (c *Cluster) CurrentNode() Node {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.node
}
