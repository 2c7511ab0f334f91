package node

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// state is what a node keeps of its membership in <data-root>/swarm/state.json.
type state struct {
	NodeID        string
	ClusterID     string
	Role          string
	ListenAddr    string
	AdvertiseAddr string
	DataPathAddr  string   `json:",omitempty"`
	Managers      []string `json:",omitempty"` // managers' channel addresses last known (workers)
}

const stateFile = "state.json"

func loadState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := &state{}
	return s, json.Unmarshal(b, s)
}

func saveState(dir string, s *state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, stateFile))
}
