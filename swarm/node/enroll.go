package node

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/docker/docker/api/types/swarm"
	hraft "github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/swarm/ca"
	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/transport"
)

// enroller is the manager's certificate authority on the channel (transport.Enroller).
type enroller struct {
	st   *store.Store
	raft *raft.Node
}

func (e *enroller) cluster() (*store.Cluster, *ca.RootCA, error) {
	var cl *store.Cluster
	e.st.View(func(tx store.ReadTx) { cl = tx.GetCluster() })
	if cl == nil {
		return nil, nil, errors.New("node: no cluster object yet")
	}
	root, err := ca.ParseRootCA([]byte(cl.TLSInfo.TrustRoot), cl.RootCAKey)
	return cl, root, err
}

func (e *enroller) JoinTokens() swarm.JoinTokens {
	cl, _, err := e.cluster()
	if err != nil {
		return swarm.JoinTokens{}
	}
	return cl.JoinTokens
}

func ouOf(role swarm.NodeRole) string {
	if role == swarm.NodeRoleManager {
		return ca.OUManager
	}
	return ca.OUWorker
}

func (e *enroller) Enroll(ctx context.Context, req transport.EnrollRequest) (transport.Enrollment, error) {
	cl, root, err := e.cluster()
	if err != nil {
		return transport.Enrollment{}, err
	}
	nodeID := store.NewID()
	addr := hostOf(req.RemoteAddr)
	adv := req.AdvertiseAddr
	if h, p, err := net.SplitHostPort(adv); err == nil && (h == "" || net.ParseIP(h).IsUnspecified()) {
		adv = net.JoinHostPort(addr, p)
	}
	certPEM, err := root.IssueNodeCert(req.PublicKey, nodeID, ouOf(req.Role), cl.ID, time.Now(), cl.Spec.CAConfig.NodeCertExpiry)
	if err != nil {
		return transport.Enrollment{}, err
	}
	err = e.st.Update(ctx, func(tx store.Tx) error {
		n := &store.Node{}
		n.ID = nodeID
		n.Spec = swarm.NodeSpec{Annotations: swarm.Annotations{Labels: map[string]string{}}, Role: req.Role, Availability: swarm.NodeAvailabilityActive}
		n.Status = swarm.NodeStatus{State: swarm.NodeStateUnknown, Addr: addr}
		n.Description.TLSInfo = cl.TLSInfo
		if req.Role == swarm.NodeRoleManager {
			n.RaftID = nodeID
			n.ManagerStatus = &swarm.ManagerStatus{Reachability: swarm.ReachabilityUnknown, Addr: adv}
		}
		return tx.Create(n)
	})
	if err != nil {
		return transport.Enrollment{}, err
	}
	return transport.Enrollment{NodeID: nodeID, Role: req.Role, ClusterID: cl.ID, CertPEM: certPEM,
		RootPEM: []byte(cl.TLSInfo.TrustRoot), Managers: e.managers()}, nil
}

// managers lists the Raft voters' channel addresses, the leader first.
func (e *enroller) managers() []transport.Manager {
	servers, err := e.raft.Servers()
	if err != nil {
		return nil
	}
	leader := e.raft.Leader()
	var out []transport.Manager
	for _, s := range servers {
		m := transport.Manager{NodeID: string(s.ID), Addr: string(s.Address)}
		if m.NodeID == leader {
			out = append([]transport.Manager{m}, out...)
		} else {
			out = append(out, m)
		}
	}
	return out
}

func (e *enroller) Renew(ctx context.Context, peer transport.Peer, pub crypto.PublicKey) ([]byte, error) {
	cl, root, err := e.cluster()
	if err != nil {
		return nil, err
	}
	var n *store.Node
	e.st.View(func(tx store.ReadTx) { n = tx.GetNode(peer.NodeID) })
	if n == nil {
		return nil, fmt.Errorf("node %s not found", peer.NodeID)
	}
	return root.IssueNodeCert(pub, n.ID, ouOf(n.Spec.Role), cl.ID, time.Now(), cl.Spec.CAConfig.NodeCertExpiry)
}

// members changes the Raft configuration (transport.Members).
type members struct{ raft *raft.Node }

func (m members) AddManager(ctx context.Context, nodeID, addr string) error {
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	return m.raft.Raft().AddVoter(hraft.ServerID(nodeID), hraft.ServerAddress(addr), 0, timeout).Error()
}
