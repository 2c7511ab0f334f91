package control

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/store"
)

var nodeFilterKeys = map[string]bool{"name": true, "id": true, "label": true, "role": true, "membership": true, "node.label": true}

// GetNodes lists the nodes that pass the filters.
func (c *Cluster) GetNodes(ctx context.Context, opts swarm.NodeListOptions) ([]swarm.Node, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	f := opts.Filters
	if err := f.Validate(nodeFilterKeys); err != nil {
		return nil, err
	}
	for _, r := range f.Get("role") {
		if r != "manager" && r != "worker" && r != "" {
			return nil, errdefs.InvalidParameter(fmt.Errorf("Invalid role filter: '%s'", r))
		}
	}
	for _, m := range f.Get("membership") {
		if m != "accepted" && m != "pending" && m != "" {
			return nil, errdefs.InvalidParameter(fmt.Errorf("Invalid membership filter: '%s'", m))
		}
	}
	out := []swarm.Node{}
	st.View(func(tx store.ReadTx) {
		for _, n := range tx.ListNodes() {
			if nodeMatches(f, n) {
				out = append(out, n.Node)
			}
		}
	})
	return out, nil
}

func nodeMatches(f filters.Args, n *store.Node) bool {
	name := n.Spec.Name
	if name == "" {
		name = n.Description.Hostname
	}
	if f.Contains("name") && !anyPrefix(f.Get("name"), name) {
		return false
	}
	if f.Contains("id") && !anyPrefix(f.Get("id"), n.ID) {
		return false
	}
	if f.Contains("role") && !f.ExactMatch("role", string(n.Spec.Role)) {
		return false
	}
	// every node in the store has been accepted
	if f.Contains("membership") && !f.ExactMatch("membership", "accepted") {
		return false
	}
	if f.Contains("label") && !f.MatchKVList("label", n.Description.Engine.Labels) {
		return false
	}
	if f.Contains("node.label") && !f.MatchKVList("node.label", n.Spec.Labels) {
		return false
	}
	return true
}

func anyPrefix(prefixes []string, s string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// GetNode finds a node by full ID, then hostname, then ID prefix, as Docker does.
func (c *Cluster) GetNode(ctx context.Context, ref string) (swarm.Node, error) {
	st, err := c.managerStore()
	if err != nil {
		return swarm.Node{}, err
	}
	var n *store.Node
	st.View(func(tx store.ReadTx) { n, err = findNode(tx, ref) })
	if err != nil {
		return swarm.Node{}, err
	}
	return n.Node, nil
}

func findNode(tx store.ReadTx, ref string) (*store.Node, error) {
	if n := tx.GetNode(ref); n != nil {
		return n, nil
	}
	matches := tx.NodesByHostname(ref)
	if len(matches) == 0 {
		for _, o := range tx.FindByIDPrefix(store.KindNode, ref) {
			matches = append(matches, o.(*store.Node))
		}
	}
	switch len(matches) {
	case 0:
		return nil, errdefs.NotFound(fmt.Errorf("node %s not found", ref))
	case 1:
		return matches[0], nil
	}
	return nil, errdefs.InvalidParameter(fmt.Errorf("node %s is ambiguous (%d matches found)", ref, len(matches)))
}

// UpdateNode replaces a node's spec: availability, labels, role.
func (c *Cluster) UpdateNode(ctx context.Context, ref string, version uint64, spec swarm.NodeSpec) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	switch spec.Availability {
	case swarm.NodeAvailabilityActive, swarm.NodeAvailabilityPause, swarm.NodeAvailabilityDrain:
	default:
		return errdefs.InvalidParameter(fmt.Errorf("invalid Availability: %q", spec.Availability))
	}
	switch spec.Role {
	case swarm.NodeRoleManager, swarm.NodeRoleWorker:
	default:
		return errdefs.InvalidParameter(fmt.Errorf("invalid Role: %q", spec.Role))
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		cur, err := findNode(tx, ref)
		if err != nil {
			return err
		}
		if cur.Spec.Role == swarm.NodeRoleManager && spec.Role == swarm.NodeRoleWorker {
			managers := 0
			for _, n := range tx.ListNodes() {
				if n.Spec.Role == swarm.NodeRoleManager {
					managers++
				}
			}
			if managers <= 1 {
				return errdefs.InvalidParameter(errors.New("rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm"))
			}
			if n := c.CurrentNode(); n != nil {
				reachable, unreachable := n.RaftMembers()
				if losesQuorum(reachable, unreachable, cur.ManagerStatus) {
					return errdefs.InvalidParameter(errors.New("rpc error: code = FailedPrecondition desc = can't remove member from the raft: this would result in a loss of quorum"))
				}
			}
		}
		n := cur.Copy()
		n.Version.Index = version
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		n.Spec = spec
		n.UpdatedAt = tx.Now()
		return tx.Update(n)
	})
	return storeError(err)
}

// RemoveNode removes a node from the swarm: refused for managers, and for nodes that are up unless
// forced.
func (c *Cluster) RemoveNode(ctx context.Context, ref string, force bool) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		n, err := findNode(tx, ref)
		if err != nil {
			return err
		}
		if n.Spec.Role == swarm.NodeRoleManager || n.ManagerStatus != nil {
			return errdefs.InvalidParameter(fmt.Errorf("rpc error: code = FailedPrecondition desc = node %s is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal", n.ID))
		}
		if !force && n.Status.State != swarm.NodeStateDown {
			return errdefs.InvalidParameter(fmt.Errorf("rpc error: code = FailedPrecondition desc = node %s is not down and can't be removed", n.ID))
		}
		return tx.Delete(store.KindNode, n.ID)
	})
	return storeError(err)
}

// losesQuorum tells whether taking one manager (with status ms) out of a Raft of reachable and
// unreachable members leaves fewer reachable members than the smaller Raft's quorum.
func losesQuorum(reachable, unreachable int, ms *swarm.ManagerStatus) bool {
	total := reachable + unreachable
	if total == 0 {
		return false
	}
	left := reachable
	if ms == nil || ms.Reachability != swarm.ReachabilityUnreachable {
		left--
	}
	return left < (total-1)/2+1
}
