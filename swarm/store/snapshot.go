package store

import (
	"encoding/json"
	"fmt"
	"io"
)

// snapshot is the on-disk form of the whole store.
type snapshot struct {
	Index    uint64
	Services []*Service
	Tasks    []*Task
	Nodes    []*Node
	Networks []*Network
	Clusters []*Cluster
	Secrets  []*Secret
	Configs  []*Config
}

// Save writes the whole store and the index it reflects to w.
func (s *Store) Save(w io.Writer) error {
	s.applyMu.Lock()
	snap := snapshot{Index: s.index}
	s.View(func(tx ReadTx) {
		r := tx.(readTx)
		snap.Services = tx.ListServices()
		snap.Tasks = tx.ListTasks()
		snap.Nodes = tx.ListNodes()
		snap.Networks = tx.ListNetworks()
		snap.Clusters = list[Cluster](r.txn, KindCluster, indexID)
		snap.Secrets = tx.ListSecrets()
		snap.Configs = tx.ListConfigs()
	})
	s.applyMu.Unlock()
	return json.NewEncoder(w).Encode(&snap)
}

// Restore replaces the whole store with a snapshot written by Save. Watchers are not told of the
// objects it loads: whoever restores (Raft, at start or when a leader sends a snapshot) restarts the
// controllers that depend on them.
func (s *Store) Restore(r io.Reader) error {
	var snap snapshot
	if err := json.NewDecoder(r).Decode(&snap); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	txn := s.db.Txn(true)
	for _, k := range allKinds {
		if _, err := txn.DeleteAll(string(k), indexID); err != nil {
			txn.Abort()
			return err
		}
	}
	var objs []Object
	for _, o := range snap.Services {
		objs = append(objs, o)
	}
	for _, o := range snap.Tasks {
		objs = append(objs, o)
	}
	for _, o := range snap.Nodes {
		objs = append(objs, o)
	}
	for _, o := range snap.Networks {
		objs = append(objs, o)
	}
	for _, o := range snap.Clusters {
		objs = append(objs, o)
	}
	for _, o := range snap.Secrets {
		objs = append(objs, o)
	}
	for _, o := range snap.Configs {
		objs = append(objs, o)
	}
	for _, o := range objs {
		if err := txn.Insert(string(o.Kind()), o); err != nil {
			txn.Abort()
			return err
		}
	}
	txn.Commit()
	s.index = snap.Index
	return nil
}
