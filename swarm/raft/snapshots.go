package raft

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// DefaultRetainSnapshots is how many snapshots a manager keeps when the swarm spec's
// KeepOldSnapshots is not set: the newest alone, as swarmkit (1 + KeepOldSnapshots).
const DefaultRetainSnapshots = 1

// keepAll is the inner file store's own retention: it never reaps; snapshotStore does.
const keepAll = 1 << 30

// snapshotStore is hashicorp's file snapshot store with a retention that can change at run time
// (the swarm spec's Raft.KeepOldSnapshots): the file store keeps every snapshot, and once a new
// one is written this one removes the oldest beyond retain.
type snapshotStore struct {
	*hraft.FileSnapshotStore
	dir    string // where the file store keeps its snapshot directories
	retain atomic.Int64
	log    hclog.Logger
}

func newSnapshotStore(base string, retain int, log hclog.Logger) (*snapshotStore, error) {
	if retain < 1 {
		return nil, fmt.Errorf("raft: must retain at least one snapshot, not %d", retain)
	}
	fs, err := hraft.NewFileSnapshotStoreWithLogger(base, keepAll, log)
	if err != nil {
		return nil, err
	}
	s := &snapshotStore{FileSnapshotStore: fs, dir: filepath.Join(base, "snapshots"), log: log}
	s.retain.Store(int64(retain))
	return s, nil
}

// Create implements hraft.SnapshotStore: the sink reaps old snapshots once it is closed.
func (s *snapshotStore) Create(version hraft.SnapshotVersion, index, term uint64, configuration hraft.Configuration,
	configurationIndex uint64, trans hraft.Transport) (hraft.SnapshotSink, error) {
	sink, err := s.FileSnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return &reapingSink{SnapshotSink: sink, s: s}, nil
}

// setRetain sets how many snapshots are kept from the next one on (at least one).
func (s *snapshotStore) setRetain(n int) {
	if n >= 1 {
		s.retain.Store(int64(n))
	}
}

// reap removes the snapshots beyond the newest retain.
func (s *snapshotStore) reap() error {
	metas, err := s.List() // newest first
	if err != nil {
		return err
	}
	for i := int(s.retain.Load()); i < len(metas); i++ {
		path := filepath.Join(s.dir, metas[i].ID)
		s.log.Info("reaping snapshot", "path", path)
		if err := os.RemoveAll(path); err != nil {
			return err
		}
	}
	return nil
}

// reapingSink is a snapshot sink that reaps old snapshots when the new one is complete.
type reapingSink struct {
	hraft.SnapshotSink
	s *snapshotStore
}

func (k *reapingSink) Close() error {
	if err := k.SnapshotSink.Close(); err != nil {
		return err
	}
	return k.s.reap()
}
