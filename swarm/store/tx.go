package store

import (
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
	memdb "github.com/hashicorp/go-memdb"
)

// ReadTx reads a consistent snapshot. Returned objects are shared and read-only; lists are in ID order
// and never nil.
type ReadTx interface {
	GetService(id string) *Service
	ListServices() []*Service
	// FindServiceByName finds a service by its name, case-insensitively.
	FindServiceByName(name string) *Service
	GetTask(id string) *Task
	ListTasks() []*Task
	TasksByService(serviceID string) []*Task
	TasksByNode(nodeID string) []*Task
	// TasksByState gives the tasks whose observed state is state.
	TasksByState(state swarm.TaskState) []*Task
	// TasksBySlot gives the tasks of one replicated slot, or (slot 0) of one global service on a node.
	TasksBySlot(serviceID string, slot int, nodeID string) []*Task
	GetNode(id string) *Node
	ListNodes() []*Node
	NodesByHostname(hostname string) []*Node
	GetNetwork(id string) *Network
	ListNetworks() []*Network
	FindNetworkByName(name string) *Network
	GetCluster() *Cluster
	GetSecret(id string) *Secret
	ListSecrets() []*Secret
	FindSecretByName(name string) *Secret
	GetConfig(id string) *Config
	ListConfigs() []*Config
	FindConfigByName(name string) *Config
	// FindByIDPrefix lists the objects of a kind whose ID starts with prefix.
	FindByIDPrefix(kind Kind, prefix string) []Object
}

// Tx is a write transaction: reads see the transaction's own writes.
type Tx interface {
	ReadTx
	// Now is the proposer's clock for this write; use it for CreatedAt, UpdatedAt and status times.
	Now() time.Time
	// Create stores a new object (its ID must be set and unused).
	Create(o Object) error
	// Update replaces an object. o.Meta.Version.Index must be the version read (else
	// ErrSequenceConflict); the store sets the new version on commit.
	Update(o Object) error
	// Delete removes an object of a kind by ID.
	Delete(kind Kind, id string) error
}

type readTx struct{ txn *memdb.Txn }

func first[T any](txn *memdb.Txn, k Kind, index, arg string) *T {
	raw, err := txn.First(string(k), index, arg)
	if err != nil || raw == nil {
		return nil
	}
	return raw.(*T)
}

func list[T any](txn *memdb.Txn, k Kind, index string, args ...any) []*T {
	it, err := txn.Get(string(k), index, args...)
	out := []*T{}
	if err != nil {
		return out
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw.(*T))
	}
	return out
}

func (r readTx) GetService(id string) *Service {
	return first[Service](r.txn, KindService, indexID, id)
}
func (r readTx) ListServices() []*Service { return list[Service](r.txn, KindService, indexID) }
func (r readTx) FindServiceByName(name string) *Service {
	return first[Service](r.txn, KindService, indexName, strings.ToLower(name))
}
func (r readTx) GetTask(id string) *Task { return first[Task](r.txn, KindTask, indexID, id) }
func (r readTx) ListTasks() []*Task      { return list[Task](r.txn, KindTask, indexID) }
func (r readTx) TasksByService(serviceID string) []*Task {
	return list[Task](r.txn, KindTask, indexService, serviceID)
}
func (r readTx) TasksByNode(nodeID string) []*Task {
	return list[Task](r.txn, KindTask, indexNode, nodeID)
}
func (r readTx) TasksByState(state swarm.TaskState) []*Task {
	return list[Task](r.txn, KindTask, indexState, string(state))
}
func (r readTx) TasksBySlot(serviceID string, slot int, nodeID string) []*Task {
	t := &Task{}
	t.ServiceID, t.Slot, t.NodeID = serviceID, slot, nodeID
	return list[Task](r.txn, KindTask, indexSlot, slotKey(t))
}
func (r readTx) GetNode(id string) *Node { return first[Node](r.txn, KindNode, indexID, id) }
func (r readTx) ListNodes() []*Node      { return list[Node](r.txn, KindNode, indexID) }
func (r readTx) NodesByHostname(hostname string) []*Node {
	return list[Node](r.txn, KindNode, indexName, hostname)
}
func (r readTx) GetNetwork(id string) *Network {
	return first[Network](r.txn, KindNetwork, indexID, id)
}
func (r readTx) ListNetworks() []*Network { return list[Network](r.txn, KindNetwork, indexID) }
func (r readTx) FindNetworkByName(name string) *Network {
	return first[Network](r.txn, KindNetwork, indexName, strings.ToLower(name))
}
func (r readTx) GetCluster() *Cluster {
	l := list[Cluster](r.txn, KindCluster, indexID)
	if len(l) == 0 {
		return nil
	}
	return l[0]
}
func (r readTx) GetSecret(id string) *Secret { return first[Secret](r.txn, KindSecret, indexID, id) }
func (r readTx) ListSecrets() []*Secret      { return list[Secret](r.txn, KindSecret, indexID) }
func (r readTx) FindSecretByName(name string) *Secret {
	return first[Secret](r.txn, KindSecret, indexName, strings.ToLower(name))
}
func (r readTx) GetConfig(id string) *Config { return first[Config](r.txn, KindConfig, indexID, id) }
func (r readTx) ListConfigs() []*Config      { return list[Config](r.txn, KindConfig, indexID) }
func (r readTx) FindConfigByName(name string) *Config {
	return first[Config](r.txn, KindConfig, indexName, strings.ToLower(name))
}

func (r readTx) FindByIDPrefix(kind Kind, prefix string) []Object {
	it, err := r.txn.Get(string(kind), indexID+"_prefix", prefix)
	out := []Object{}
	if err != nil {
		return out
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, raw.(Object))
	}
	return out
}

type writeTx struct {
	readTx
	now     time.Time
	changes []Change
}

func (w *writeTx) Now() time.Time { return w.now }

func (w *writeTx) Create(o Object) error {
	if o.GetID() == "" {
		return ErrNotExist
	}
	if r, _ := w.txn.First(string(o.Kind()), indexID, o.GetID()); r != nil {
		return ErrExist
	}
	if err := w.checkName(o); err != nil {
		return err
	}
	m := o.GetMeta()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = w.now
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	if err := w.txn.Insert(string(o.Kind()), o); err != nil {
		return err
	}
	w.record(changeFor(Create, o, 0))
	return nil
}

func (w *writeTx) Update(o Object) error {
	raw, _ := w.txn.First(string(o.Kind()), indexID, o.GetID())
	if raw == nil {
		return ErrNotExist
	}
	if raw.(Object).GetMeta().Version.Index != o.GetMeta().Version.Index {
		return ErrSequenceConflict
	}
	if err := w.checkName(o); err != nil {
		return err
	}
	if err := replace(w.txn, string(o.Kind()), raw.(Object), o); err != nil {
		return err
	}
	w.record(changeFor(Update, o, o.GetMeta().Version.Index))
	return nil
}

func (w *writeTx) Delete(kind Kind, id string) error {
	raw, _ := w.txn.First(string(kind), indexID, id)
	if raw == nil {
		return ErrNotExist
	}
	o := raw.(Object)
	if err := w.txn.Delete(string(kind), o); err != nil {
		return err
	}
	w.record(changeFor(Delete, o, o.GetMeta().Version.Index))
	return nil
}

func (w *writeTx) checkName(o Object) error {
	name := o.UniqueName()
	if name == "" {
		return nil
	}
	raw, _ := w.txn.First(string(o.Kind()), indexName, name)
	if raw != nil && raw.(Object).GetID() != o.GetID() {
		return ErrNameConflict
	}
	return nil
}

// record adds a change, folding it into an earlier change of the same object so that a proposal holds
// at most one change per object and the versions it expects are those read before the write.
func (w *writeTx) record(c Change) {
	for i := range w.changes {
		prev := &w.changes[i]
		if prev.Kind != c.Kind || prev.ID != c.ID {
			continue
		}
		switch {
		case prev.Action == Create && c.Action == Delete:
			w.changes = append(w.changes[:i], w.changes[i+1:]...)
		case prev.Action == Create:
			c.Action, c.Expect = Create, 0
			*prev = c
		case prev.Action == Delete && c.Action == Create:
			// deleted then made again under the same ID: an update of what was there.
			c.Action, c.Expect = Update, prev.Expect
			*prev = c
		default:
			c.Expect = prev.Expect
			*prev = c
		}
		return
	}
	w.changes = append(w.changes, c)
}

// replay re-does a pending change of a batch on a scratch transaction.
func (w *writeTx) replay(c Change) error {
	w.changes = append(w.changes, c)
	if c.Action == Delete {
		raw, _ := w.txn.First(string(c.Kind), indexID, c.ID)
		if raw == nil {
			return nil
		}
		return w.txn.Delete(string(c.Kind), raw)
	}
	var old Object
	if raw, _ := w.txn.First(string(c.Kind), indexID, c.ID); raw != nil {
		old = raw.(Object)
	}
	return replace(w.txn, string(c.Kind), old, c.Object())
}
