package raft

import (
	"io"

	hraft "github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/swarm/store"
)

// Log entry types: the first byte of every entry. Numbers are never reused.
const (
	entryProposal byte = 1
)

// fsm applies committed entries to the store.
type fsm struct{ st *store.Store }

// Apply returns the store's error for the entry (nil on success); Propose hands it back to the writer.
func (f *fsm) Apply(l *hraft.Log) any {
	if l.Type != hraft.LogCommand || len(l.Data) == 0 {
		return nil
	}
	switch l.Data[0] {
	case entryProposal:
		p, err := store.DecodeProposal(l.Data[1:])
		if err != nil {
			return err
		}
		return f.st.Apply(l.Index, p)
	}
	return nil // an entry type from a newer version: ignored, as planned for rolling upgrades
}

func (f *fsm) Snapshot() (hraft.FSMSnapshot, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(f.st.Save(pw)) }()
	b, err := io.ReadAll(pr)
	if err != nil {
		return nil, err
	}
	return snapshot(b), nil
}

func (f *fsm) Restore(r io.ReadCloser) error {
	defer r.Close()
	return f.st.Restore(r)
}

type snapshot []byte

func (s snapshot) Persist(sink hraft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s snapshot) Release() {}
