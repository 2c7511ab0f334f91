package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Action is what a Change does to an object.
type Action uint8

// The actions of a Change; the numbers are part of the Raft log format and are never reused.
const (
	Create Action = 1
	Update Action = 2
	Delete Action = 3
)

func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Change is one write of a Proposal. Exactly one object field is set.
type Change struct {
	Action Action
	Kind   Kind
	ID     string
	// Expect is the Version.Index an Update or Delete expects to find (0 for creates and for
	// writers that do not care, such as deletes by the orchestrator).
	Expect uint64 `json:",omitempty"`

	Service *Service `json:",omitempty"`
	Task    *Task    `json:",omitempty"`
	Node    *Node    `json:",omitempty"`
	Network *Network `json:",omitempty"`
	Cluster *Cluster `json:",omitempty"`
	Secret  *Secret  `json:",omitempty"`
	Config  *Config  `json:",omitempty"`
}

// Object returns the object the change carries (nil for deletes).
func (c *Change) Object() Object {
	switch {
	case c.Service != nil:
		return c.Service
	case c.Task != nil:
		return c.Task
	case c.Node != nil:
		return c.Node
	case c.Network != nil:
		return c.Network
	case c.Cluster != nil:
		return c.Cluster
	case c.Secret != nil:
		return c.Secret
	case c.Config != nil:
		return c.Config
	}
	return nil
}

func changeFor(a Action, o Object, expect uint64) Change {
	c := Change{Action: a, Kind: o.Kind(), ID: o.GetID(), Expect: expect}
	if a == Delete {
		return c
	}
	switch v := o.(type) {
	case *Service:
		c.Service = v
	case *Task:
		c.Task = v
	case *Node:
		c.Node = v
	case *Network:
		c.Network = v
	case *Cluster:
		c.Cluster = v
	case *Secret:
		c.Secret = v
	case *Config:
		c.Config = v
	default:
		panic(fmt.Sprintf("store: unknown object %T", o))
	}
	return c
}

// Proposal is one atomic write: what the Proposer replicates and Apply applies.
type Proposal struct {
	// Time is the proposer's clock when the write was made; Apply never reads a clock.
	Time    time.Time
	Changes []Change
}

// Encode gives the proposal's bytes for the Raft log.
func (p *Proposal) Encode() ([]byte, error) { return json.Marshal(p) }

// DecodeProposal reads a proposal from its Raft log bytes.
func DecodeProposal(b []byte) (*Proposal, error) {
	p := &Proposal{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("store: decode proposal: %w", err)
	}
	return p, nil
}
