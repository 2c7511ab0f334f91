package transport

import (
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/netview"
)

// The wire forms of the RPCs (JSON). They are exported because net/rpc requires it; other
// packages use the typed calls of Client and Join instead.

// Empty is an argument or reply with nothing in it.
type Empty struct{}

// JoinRequest is CA.Join's argument (shoal-join).
type JoinRequest struct {
	Token string
	// AdvertiseAddr is the channel address the node asks to be reached at (managers); may be empty.
	AdvertiseAddr string
	// PublicKey is the node's public key, PKIX DER.
	PublicKey []byte
}

// JoinReply is CA.Join's answer: an enrolment, or the leader to ask instead.
type JoinReply struct {
	Enrollment
	Leader string `json:",omitempty"`
}

// RenewRequest is CA.Renew's argument (shoal-rpc).
type RenewRequest struct {
	PublicKey []byte // PKIX DER
}

// RenewReply is CA.Renew's answer: the new certificate, or the leader to ask instead.
type RenewReply struct {
	CertPEM []byte
	Leader  string `json:",omitempty"`
}

// AddManagerRequest is Raft.AddManager's argument: the caller (a manager, by its certificate) asks
// to be a Raft voter at Addr.
type AddManagerRequest struct {
	Addr string
}

// AddManagerReply is Raft.AddManager's answer; Leader is set when the callee does not lead.
type AddManagerReply struct {
	Leader string `json:",omitempty"`
}

// OpenRequest is Dispatcher.Open's argument; the node is the one the certificate names.
type OpenRequest struct {
	Description swarm.NodeDescription
}

// OpenReply is Dispatcher.Open's answer: a session, or the leader to open it with instead.
type OpenReply struct {
	Session string `json:",omitempty"`
	Leader  string `json:",omitempty"`
}

// SessionRequest names a session opened on the same connection.
type SessionRequest struct {
	Session string
}

// AssignmentsRequest is Dispatcher.Assignments' argument: answer once the task set is newer than After.
type AssignmentsRequest struct {
	Session string
	After   uint64
}

// AssignmentsReply is the node's whole task set at Version (unchanged when Version equals After:
// the poll timed out). Closed: the session ended (node removed).
type AssignmentsReply struct {
	Version uint64
	Tasks   []agent.Task
	Closed  bool `json:",omitempty"`
}

// StatusRequest is Dispatcher.UpdateStatus' argument.
type StatusRequest struct {
	Session string
	Updates []agent.StatusUpdate
}

// HeartbeatReply is Dispatcher.Heartbeat's answer: when to beat next.
type HeartbeatReply struct {
	Period time.Duration
}

// LogSubscriptionsRequest is Dispatcher.LogSubscriptions' argument: answer once the node's set of
// log subscriptions is newer than After.
type LogSubscriptionsRequest struct {
	Session string
	After   uint64
}

// LogSubscriptionsReply is the node's whole set of open log subscriptions at Version (unchanged
// when Version equals After: the poll timed out). Closed: the session ended.
type LogSubscriptionsReply struct {
	Version       uint64
	Subscriptions []agent.LogSubscription
	Closed        bool `json:",omitempty"`
}

// NetworksRequest is Dispatcher.Networks' argument: answer once the node's view of its overlay
// networks is newer than After.
type NetworksRequest struct {
	Session string
	After   uint64
}

// NetworksReply is the node's whole network view at Version (unchanged when Version equals After:
// the poll timed out, or the manager computes no views). Closed: the session ended.
type NetworksReply struct {
	Version uint64
	View    netview.NodeView
	Closed  bool `json:",omitempty"`
}

// PublishLogsRequest is Dispatcher.PublishLogs' argument: one batch of a subscription of this
// session.
type PublishLogsRequest struct {
	Session string
	Batch   agent.LogBatch
}

// DependenciesRequest is Dispatcher.Dependencies' argument: the secrets and configs a node's tasks
// refer to.
type DependenciesRequest struct {
	Session   string
	SecretIDs []string
	ConfigIDs []string
}

// DependenciesReply carries them, with their data.
type DependenciesReply struct {
	Secrets []swarm.Secret
	Configs []swarm.Config
}

// RegistryAuthRequest is Dispatcher.RegistryAuth's argument: a service the node runs a task of.
type RegistryAuthRequest struct {
	Session   string
	ServiceID string
}

// RegistryAuthReply carries the service's X-Registry-Auth.
type RegistryAuthReply struct {
	Auth string
}
