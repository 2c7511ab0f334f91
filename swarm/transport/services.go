package transport

import (
	"context"
	"crypto"

	"github.com/docker/docker/api/types/swarm"
)

// Leadership tells whether this manager leads and where the leader is. *raft.Node implements it
// (its LeaderAddr is the leader's channel address, as Raft runs on the channel). Methods are
// called concurrently.
type Leadership interface {
	IsLeader() bool
	// LeaderAddr is the leader's channel address, "" when no leader is known.
	LeaderAddr() string
}

// Enroller is the certificate authority a manager serves on the channel; swarm/node implements it.
// Its methods are only called on the leader (others send the caller there), concurrently.
type Enroller interface {
	// JoinTokens are the cluster's current join tokens. The channel compares a joining node's
	// token with them and calls Enroll only for a match.
	JoinTokens() swarm.JoinTokens
	// Enroll admits a node whose token was accepted for req.Role: it makes the node object and
	// signs a certificate for req.PublicKey (CN a new node ID, OU the role, O the cluster ID).
	// An error is returned to the joining node as is if it is a *StatusError.
	Enroll(ctx context.Context, req EnrollRequest) (Enrollment, error)
	// Renew signs a new certificate for pub for a node that authenticated with its current one;
	// the role is the node's role now.
	Renew(ctx context.Context, node Peer, pub crypto.PublicKey) (certPEM []byte, err error)
}

// EnrollRequest is a joining node whose token the channel accepted.
type EnrollRequest struct {
	Role swarm.NodeRole
	// AdvertiseAddr is the channel address the node asks to be reached at; may be empty or have an
	// unspecified host, in which case the host of RemoteAddr is the one to use.
	AdvertiseAddr string
	// RemoteAddr is the address the request came from (host:port).
	RemoteAddr string
	PublicKey  crypto.PublicKey
}

// Enrollment is what a node receives when it joins.
type Enrollment struct {
	NodeID    string
	Role      swarm.NodeRole
	ClusterID string
	CertPEM   []byte
	RootPEM   []byte
	// Managers are the managers' channel addresses, the leader first.
	Managers []Manager
}

// Manager is one manager of the cluster as seen on the channel.
type Manager struct {
	NodeID string
	Addr   string
}

// Members changes the Raft configuration on the leader; swarm/node implements it over
// raft.Node.Raft().AddVoter.
type Members interface {
	// AddManager makes nodeID a voter reachable at addr (its channel address).
	AddManager(ctx context.Context, nodeID, addr string) error
}
