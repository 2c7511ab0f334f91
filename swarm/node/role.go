package node

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/ca"
	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
)

// rolePollPeriod is how often a node asks the managers for a fresh certificate, which carries the
// role the cluster gives it now: a promotion or a demotion takes effect within this period.
const rolePollPeriod = 3 * time.Second

// identityLoop keeps the node's certificate and role current: it renews the certificate for the
// same key every rolePollPeriod, switches the manager half on or off when the role in it changes,
// and moves to a new key once two thirds of the certificate's life have passed.
func (mb *Membership) identityLoop(id identity) {
	for {
		select {
		case <-mb.ctx.Done():
			return
		case <-time.After(rolePollPeriod):
		}
		keyPEM := id.keyPEM
		key, err := parseKey(keyPEM)
		if err != nil {
			return
		}
		if notAfter, err := id.notAfter(); err == nil && time.Until(notAfter) < certLife(id)/3 {
			if k, kp, err := newKey(); err == nil {
				key, keyPEM = k, kp
			}
		}
		ctx, cancel := context.WithTimeout(mb.ctx, 20*time.Second)
		certPEM, err := mb.client.Renew(ctx, key.Public())
		cancel()
		if err != nil {
			continue // no manager reachable now: try again later
		}
		role, err := roleOf(certPEM)
		if err != nil {
			continue
		}
		changedKey := string(keyPEM) != string(id.keyPEM)
		if role == mb.role() && !changedKey {
			continue
		}
		if err := mb.creds.Update(certPEM, keyPEM); err != nil {
			mb.cfg.Logger.Warn("node certificate update failed", "err", err)
			continue
		}
		id.certPEM, id.keyPEM = certPEM, keyPEM
		mb.mu.Lock()
		mb.keyPEM = keyPEM
		mb.mu.Unlock()
		if err := writeFileAtomic(filepath.Join(mb.cfg.Dir, certDir, certFile), certPEM); err != nil {
			mb.cfg.Logger.Warn("saving the node certificate failed", "err", err)
		}
		if role != mb.role() {
			mb.switchRole(role)
		}
		if changedKey || role == swarm.NodeRoleWorker {
			// a worker's key is never locked; a manager's stays under the cluster's unlock key
			// written under the lock, as clusterWatcher writes, so that the last writer has the
			// current unlock key
			mb.mu.Lock()
			if role == swarm.NodeRoleWorker {
				mb.unlock = ""
			}
			err := saveKey(mb.cfg.Dir, keyPEM, mb.unlock)
			mb.mu.Unlock()
			if err != nil {
				mb.cfg.Logger.Warn("saving the node key failed", "err", err)
			}
		}
	}
}

func (mb *Membership) role() swarm.NodeRole {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	return swarm.NodeRole(mb.state.Role)
}

// switchRole starts (promotion) or stops (demotion) the manager half and records the new role.
func (mb *Membership) switchRole(role swarm.NodeRole) {
	mb.cfg.Logger.Info("swarm role changed", "role", role)
	if role == swarm.NodeRoleManager {
		mgr, err := mb.startManager(mb.ctx, startJoin)
		if err != nil {
			mb.cfg.Logger.Error("starting as a manager failed", "err", err)
			return
		}
		mb.mu.Lock()
		mb.mgr = mgr
		mb.state.Role = string(role)
		s := mb.state
		mb.mu.Unlock()
		saveState(mb.cfg.Dir, &s)
		return
	}
	mb.mu.Lock()
	mgr := mb.mgr
	mb.mgr = nil
	mb.state.Role = string(role)
	mb.state.Managers = mb.client.Managers()
	s := mb.state
	mb.mu.Unlock()
	if mgr != nil {
		mgr.stop()
	}
	os.RemoveAll(filepath.Join(mb.cfg.Dir, "raft"))
	saveState(mb.cfg.Dir, &s)
}

func roleOf(certPEM []byte) (swarm.NodeRole, error) {
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return "", errors.New("node: no certificate in PEM")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return "", err
	}
	_, ou, _, err := ca.NodeIdentity(c)
	if err != nil {
		return "", err
	}
	if ou == ca.OUManager {
		return swarm.NodeRoleManager, nil
	}
	return swarm.NodeRoleWorker, nil
}

// raftMembershipLoop makes the Raft configuration follow the nodes' roles while this manager leads:
// a demoted or removed manager leaves the voters. (A promoted node joins by itself once its new
// certificate says it is a manager.)
type raftMembershipLoop struct {
	st   *store.Store
	raft *raft.Node
}

func (l raftMembershipLoop) Run(ctx context.Context) error {
	for {
		l.reconcile()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// voterChanges is the pure part: the voters that no longer belong (demoted or gone).
func voterChanges(voters []string, roles map[string]swarm.NodeRole) (remove []string) {
	for _, v := range voters {
		if r, ok := roles[v]; !ok || r != swarm.NodeRoleManager {
			remove = append(remove, v)
		}
	}
	return remove
}

func (l raftMembershipLoop) reconcile() {
	servers, err := l.raft.Servers()
	if err != nil {
		return
	}
	var voters []string
	for _, s := range servers {
		voters = append(voters, string(s.ID))
	}
	roles := map[string]swarm.NodeRole{}
	l.st.View(func(tx store.ReadTx) {
		for _, n := range tx.ListNodes() {
			roles[n.ID] = n.Spec.Role
		}
	})
	for _, id := range voterChanges(voters, roles) {
		if id == l.raft.ID() {
			l.raft.TransferLeadership() // the next leader removes this one
			return
		}
		l.raft.RemoveServer(id, 10*time.Second)
	}
}
