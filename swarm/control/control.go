package control

import (
	"context"
	"sync"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/store"
)

// Docker's texts for a node that cannot answer cluster calls (all 503).
const (
	msgNoSwarm    = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`
	msgNotManager = `This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.`
	msgNotPart    = `This node is not part of a swarm`
	msgInSwarm    = `This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.`
)

var (
	errNoSwarm    = errdefs.Unavailable(plainError(msgNoSwarm))
	errNotManager = errdefs.Unavailable(plainError(msgNotManager))
	errLocked     = errdefs.Unavailable(plainError(`Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.`))
)

// Locker is implemented by a node that waits for its unlock key (autolock after a restart).
type Locker interface {
	Locked() bool
}

func isLocked(n Node) bool {
	l, ok := n.(Locker)
	return ok && l.Locked()
}

type plainError string

func (e plainError) Error() string { return string(e) }

// Node is the local swarm membership that control reads state through. Implemented by swarm/node.
type Node interface {
	// Store is the manager's store, or nil on a worker.
	Store() *store.Store
	// NodeID is this node's swarm ID.
	NodeID() string
	// Addr is the address this node advertises to the cluster.
	Addr() string
	// RemoteManagers lists the managers this node knows of.
	RemoteManagers() []swarm.Peer
	// RaftReachable is the number of manager members of Raft that are reachable and unreachable now.
	RaftMembers() (reachable, unreachable int)
}

// Cluster implements routes.ClusterBackend.
type Cluster struct {
	mu   sync.RWMutex
	node Node // nil when not in a swarm

	lifecycle Lifecycle
	logs      TaskLogSource // nil until SetTaskLogSource
}

// Lifecycle starts and stops this node's swarm membership; implemented by swarm/node.
type Lifecycle interface {
	// Init makes a new swarm with this node as its only manager; req is already checked.
	Init(ctx context.Context, req swarm.InitRequest) (Node, error)
	// Join joins an existing swarm.
	Join(ctx context.Context, req swarm.JoinRequest) (Node, error)
	// ForceNewCluster restarts manager n as the only member of its Raft, keeping the state it holds
	// (init --force-new-cluster after a lost quorum).
	ForceNewCluster(ctx context.Context, n Node, req swarm.InitRequest) (Node, error)
	// Unlock starts locked membership n with the unlock key.
	Unlock(ctx context.Context, n Node, key string) (Node, error)
	// Leave stops the membership n and erases its state.
	Leave(ctx context.Context, n Node) error
}

// managerStore returns the store of this manager or Docker's error for a node that has none.
func (c *Cluster) managerStore() (*store.Store, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.node == nil {
		return nil, errNoSwarm
	}
	if isLocked(c.node) {
		return nil, errLocked
	}
	st := c.node.Store()
	if st == nil {
		return nil, errNotManager
	}
	return st, nil
}

// localNodeID is this node's swarm ID, or "" outside a swarm.
func (c *Cluster) localNodeID() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.node == nil {
		return ""
	}
	return c.node.NodeID()
}
