package store

import (
	"encoding/json"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// Kind names a table of the store.
type Kind string

// The kinds of object the store holds.
const (
	KindService Kind = "service"
	KindTask    Kind = "task"
	KindNode    Kind = "node"
	KindNetwork Kind = "network"
	KindCluster Kind = "cluster"
	KindSecret  Kind = "secret"
	KindConfig  Kind = "config"
)

var allKinds = []Kind{KindCluster, KindNode, KindNetwork, KindSecret, KindConfig, KindService, KindTask}

// Object is what every record of the store is.
type Object interface {
	Kind() Kind
	GetID() string
	GetMeta() *swarm.Meta
	// Name is the unique name of the object for kinds that have one (lower-cased), else "".
	UniqueName() string
}

// Service is a swarm service with the fields the Engine API type lacks.
type Service struct {
	swarm.Service
	// SpecVersion counts spec changes; tasks carry the SpecVersion they were made from (_up-to-date).
	SpecVersion uint64 `json:",omitempty"`
	// PendingDelete marks a removed service whose tasks are still being shut down; the reaper deletes
	// it once they are gone. Its name is free again at once.
	PendingDelete bool `json:",omitempty"`
	// PreviousSpecVersion is the SpecVersion of PreviousSpec (a rollback restores it).
	PreviousSpecVersion uint64 `json:",omitempty"`
	// RegistryAuth is the X-Registry-Auth given with Spec; PreviousRegistryAuth goes with PreviousSpec.
	RegistryAuth         string `json:",omitempty"`
	PreviousRegistryAuth string `json:",omitempty"`
}

// Task is a swarm task with the fields the Engine API type lacks.
type Task struct {
	swarm.Task
	// SpecVersion is the service SpecVersion this task was made from.
	SpecVersion uint64 `json:",omitempty"`
	// ServiceName is the service's name when the task was made (task and container names).
	ServiceName string `json:",omitempty"`
	// ServiceLabels are the service's labels when the task was made (templates' .Service.Labels).
	ServiceLabels map[string]string `json:",omitempty"`
	// RestartAt, when set, is the time before which a replacement for this task must not start.
	RestartAt int64 `json:",omitempty"`
}

// Node is a swarm node with the fields the Engine API type lacks.
type Node struct {
	swarm.Node
	// RaftID is the node's Raft server ID when it is a manager.
	RaftID string `json:",omitempty"`
	// CertSerial is the serial of the node's current certificate.
	CertSerial string `json:",omitempty"`
	// IngressAddr is the node's own address on the ingress network ("10.0.0.3/24"), for its ingress
	// sandbox (the routing mesh); the allocator gives it once the ingress network is allocated and
	// clears it when the ingress network goes. "" when there is none.
	IngressAddr string `json:",omitempty"`
}

// Network is a swarm-scoped network.
type Network struct {
	swarm.Network
	// VNI is the VXLAN network identifier of an overlay network.
	VNI uint32 `json:",omitempty"`
}

// Cluster is the swarm itself: its spec, tokens and root CA.
type Cluster struct {
	swarm.Swarm
	// RootCAKey is the PEM private key of the cluster root CA.
	RootCAKey []byte `json:",omitempty"`
	// UnlockKey is the manager unlock key when autolock is on.
	UnlockKey string `json:",omitempty"`
	// DefaultAddrPool and SubnetSize as given at init live in swarm.ClusterInfo.
}

// Secret is a swarm secret.
type Secret struct{ swarm.Secret }

// Config is a swarm config.
type Config struct{ swarm.Config }

func (o *Service) Kind() Kind           { return KindService }
func (o *Service) GetID() string        { return o.ID }
func (o *Service) GetMeta() *swarm.Meta { return &o.Meta }

// UniqueName of a service being removed is empty: its name is free for a new service at once.
func (o *Service) UniqueName() string {
	if o.PendingDelete {
		return ""
	}
	return strings.ToLower(o.Spec.Name)
}
func (o *Service) Copy() *Service { return deepCopy(o) }

func (o *Task) Kind() Kind           { return KindTask }
func (o *Task) GetID() string        { return o.ID }
func (o *Task) GetMeta() *swarm.Meta { return &o.Meta }
func (o *Task) UniqueName() string   { return "" }
func (o *Task) Copy() *Task          { return deepCopy(o) }

func (o *Node) Kind() Kind           { return KindNode }
func (o *Node) GetID() string        { return o.ID }
func (o *Node) GetMeta() *swarm.Meta { return &o.Meta }
func (o *Node) UniqueName() string   { return "" }
func (o *Node) Copy() *Node          { return deepCopy(o) }

func (o *Network) Kind() Kind           { return KindNetwork }
func (o *Network) GetID() string        { return o.ID }
func (o *Network) GetMeta() *swarm.Meta { return &o.Meta }
func (o *Network) UniqueName() string   { return strings.ToLower(o.Spec.Name) }
func (o *Network) Copy() *Network       { return deepCopy(o) }

func (o *Cluster) Kind() Kind           { return KindCluster }
func (o *Cluster) GetID() string        { return o.ID }
func (o *Cluster) GetMeta() *swarm.Meta { return &o.Meta }
func (o *Cluster) UniqueName() string   { return "" }
func (o *Cluster) Copy() *Cluster       { return deepCopy(o) }

func (o *Secret) Kind() Kind           { return KindSecret }
func (o *Secret) GetID() string        { return o.ID }
func (o *Secret) GetMeta() *swarm.Meta { return &o.Meta }
func (o *Secret) UniqueName() string   { return strings.ToLower(o.Spec.Name) }
func (o *Secret) Copy() *Secret        { return deepCopy(o) }

func (o *Config) Kind() Kind           { return KindConfig }
func (o *Config) GetID() string        { return o.ID }
func (o *Config) GetMeta() *swarm.Meta { return &o.Meta }
func (o *Config) UniqueName() string   { return strings.ToLower(o.Spec.Name) }
func (o *Config) Copy() *Config        { return deepCopy(o) }

// deepCopy copies an object through its JSON form, the same form Raft carries, so a copy holds exactly
// what a replica would hold.
func deepCopy[T any](o *T) *T {
	if o == nil {
		return nil
	}
	b, err := json.Marshal(o)
	if err != nil {
		panic("store: copy: " + err.Error())
	}
	c := new(T)
	if err := json.Unmarshal(b, c); err != nil {
		panic("store: copy: " + err.Error())
	}
	return c
}
