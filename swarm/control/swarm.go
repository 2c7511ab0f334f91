package control

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/ca"
	"github.com/shoal-project/shoal/swarm/store"
)

// notLocked is Docker's answer to an unlock of a swarm that is not locked (409).
type notLocked struct{}

func (notLocked) Error() string { return "swarm is not locked" }
func (notLocked) Conflict()     {}

// Init makes a new swarm with this node as its only manager.
func (c *Cluster) Init(ctx context.Context, req swarm.InitRequest) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := checkInitRequest(&req); err != nil {
		return "", err
	}
	if c.node != nil {
		if !req.ForceNewCluster || c.node.Store() == nil {
			return "", errdefs.Unavailable(plainError(msgInSwarm))
		}
		n, err := c.lifecycle.ForceNewCluster(ctx, c.node, req)
		if err != nil {
			return "", err
		}
		c.node = n
		return n.NodeID(), nil
	}
	n, err := c.lifecycle.Init(ctx, req)
	if err != nil {
		return "", err
	}
	c.node = n
	return n.NodeID(), nil
}

// Join joins this node to an existing swarm.
func (c *Cluster) Join(ctx context.Context, req swarm.JoinRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.node != nil {
		return errdefs.Unavailable(plainError(msgInSwarm))
	}
	if len(req.RemoteAddrs) == 0 {
		return errdefs.InvalidParameter(errors.New("at least 1 RemoteAddr is required to join"))
	}
	if _, err := ca.ParseToken(req.JoinToken); err != nil {
		return errdefs.InvalidParameter(errors.New("invalid join token"))
	}
	n, err := c.lifecycle.Join(ctx, req)
	if err != nil {
		return err
	}
	c.node = n
	return nil
}

// Leave takes this node out of its swarm, refusing to break a manager quorum without force.
func (c *Cluster) Leave(ctx context.Context, force bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.node == nil {
		return errdefs.Unavailable(plainError(msgNotPart))
	}
	if isLocked(c.node) && !force {
		return errdefs.Unavailable(plainError("Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message."))
	}
	if c.node.Store() != nil && !force {
		// a manager never leaves without --force; the message says what it would cost
		msg := "You are attempting to leave the swarm on a node that is participating as a manager. "
		reachable, unreachable := c.node.RaftMembers()
		if reachable == 1 && unreachable == 0 {
			msg += "Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. "
			return errdefs.Unavailable(plainError(msg))
		}
		if reachable-1 < (reachable+unreachable)/2+1 {
			msg += fmt.Sprintf("Removing this node leaves %v managers out of %v. Without a Raft quorum your swarm will be inaccessible. ", reachable-1, reachable+unreachable)
		}
		msg += "Doing so may lose the consensus of your cluster. "
		msg += "The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message."
		return errdefs.Unavailable(plainError(msg))
	}
	if err := c.lifecycle.Leave(ctx, c.node); err != nil {
		return err
	}
	c.node = nil
	return nil
}

// Inspect returns the swarm with its join tokens.
func (c *Cluster) Inspect(ctx context.Context) (swarm.Swarm, error) {
	st, err := c.managerStore()
	if err != nil {
		return swarm.Swarm{}, err
	}
	var cl *store.Cluster
	st.View(func(tx store.ReadTx) { cl = tx.GetCluster() })
	if cl == nil {
		return swarm.Swarm{}, errdefs.Unavailable(plainError(`This node is not a swarm manager. Manager is being prepared or has trouble connecting to the cluster.`))
	}
	return cl.Swarm, nil
}

// Update changes the swarm spec and rotates tokens and the unlock key as asked.
func (c *Cluster) Update(ctx context.Context, version uint64, spec swarm.Spec, flags swarm.UpdateFlags) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		cur := tx.GetCluster()
		if cur == nil {
			return errNoSwarm
		}
		cl := cur.Copy()
		cl.Version.Index = version
		root, err := ca.ParseRootCA([]byte(cl.TLSInfo.TrustRoot), cl.RootCAKey)
		if err != nil {
			return err
		}
		if spec.Name == "" {
			spec.Name = cl.Spec.Name
		}
		if err := validateSwarmSpec(&spec); err != nil {
			return err
		}
		// Zeros are kept as given, as Docker keeps them: each user of a field reads zero as its
		// default.
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		cl.Spec = spec
		if flags.RotateWorkerToken {
			cl.JoinTokens.Worker = ca.GenerateToken(root)
		}
		if flags.RotateManagerToken {
			cl.JoinTokens.Manager = ca.GenerateToken(root)
		}
		switch {
		case !spec.EncryptionConfig.AutoLockManagers:
			cl.UnlockKey = ""
		case cl.UnlockKey == "" || flags.RotateManagerUnlockKey:
			cl.UnlockKey = NewUnlockKey()
		}
		cl.UpdatedAt = tx.Now()
		return tx.Update(cl)
	})
	return storeError(err)
}

// GetUnlockKey returns the manager unlock key ("" when autolock is off).
func (c *Cluster) GetUnlockKey(ctx context.Context) (string, error) {
	st, err := c.managerStore()
	if err != nil {
		return "", err
	}
	var key string
	st.View(func(tx store.ReadTx) {
		if cl := tx.GetCluster(); cl != nil {
			key = cl.UnlockKey
		}
	})
	return key, nil
}

// UnlockSwarm unlocks a manager that restarted locked (autolock) with its unlock key.
func (c *Cluster) UnlockSwarm(ctx context.Context, req swarm.UnlockRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.node == nil {
		return errNoSwarm
	}
	if !isLocked(c.node) {
		if c.node.Store() == nil {
			return errNotManager
		}
		return notLocked{}
	}
	n, err := c.lifecycle.Unlock(ctx, c.node, strings.TrimSpace(req.UnlockKey))
	if err != nil {
		return err
	}
	c.node = n
	return nil
}

// Info is the Swarm section of GET /info.
func (c *Cluster) Info(ctx context.Context) swarm.Info {
	c.mu.RLock()
	n := c.node
	c.mu.RUnlock()
	info := swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive, RemoteManagers: nil}
	if n == nil {
		return info
	}
	info.LocalNodeState = swarm.LocalNodeStateActive
	if isLocked(n) {
		info.LocalNodeState = swarm.LocalNodeStateLocked
	}
	info.NodeID = n.NodeID()
	info.NodeAddr = hostOnly(n.Addr())
	info.RemoteManagers = n.RemoteManagers()
	st := n.Store()
	if st == nil {
		return info
	}
	info.ControlAvailable = true
	st.View(func(tx store.ReadTx) {
		if cl := tx.GetCluster(); cl != nil {
			ci := cl.ClusterInfo
			info.Cluster = &ci
		}
		nodes := tx.ListNodes()
		info.Nodes = len(nodes)
		for _, nd := range nodes {
			if nd.ManagerStatus != nil {
				info.Managers++
			}
		}
	})
	if info.Managers == 2 {
		info.Warnings = append(info.Warnings, `WARNING: Running Swarm in a two-manager configuration. This configuration provides
         no fault tolerance, and poses a high risk to lose control over the cluster.
         Refer to https://docs.docker.com/engine/swarm/admin_guide/ to configure the
         Swarm for fault-tolerance.`)
	}
	return info
}

func hostOnly(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// checkInitRequest fills Docker's defaults into an init request and checks it.
func checkInitRequest(req *swarm.InitRequest) error {
	if req.ListenAddr == "" {
		req.ListenAddr = "0.0.0.0:2377"
	}
	if _, _, err := net.SplitHostPort(req.ListenAddr); err != nil {
		if net.ParseIP(req.ListenAddr) == nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid listen address %s", req.ListenAddr))
		}
		req.ListenAddr = net.JoinHostPort(req.ListenAddr, "2377")
	}
	if req.SubnetSize == 0 {
		req.SubnetSize = 24
	}
	if req.SubnetSize < 16 || req.SubnetSize > 28 {
		return errdefs.InvalidParameter(fmt.Errorf("invalid subnet mask length %d", req.SubnetSize))
	}
	for _, p := range req.DefaultAddrPool {
		if _, _, err := net.ParseCIDR(p); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("invalid base pool %q: %v", p, err))
		}
	}
	if req.DataPathPort == 0 {
		req.DataPathPort = 4789
	} else if req.DataPathPort < 1024 || req.DataPathPort > 49151 {
		return errdefs.InvalidParameter(fmt.Errorf("data path port %d is out of range 1024-49151", req.DataPathPort))
	}
	if req.Spec.Name == "" {
		req.Spec.Name = "default"
	}
	if req.AutoLockManagers {
		req.Spec.EncryptionConfig.AutoLockManagers = true
	}
	if len(req.DefaultAddrPool) == 0 {
		req.DefaultAddrPool = nil // the CLI sends [], Docker shows null
	}
	fillSwarmSpecDefaults(&req.Spec)
	return validateSwarmSpec(&req.Spec)
}

// minNodeCertExpiry is swarmkit's shortest node certificate lifetime.
const minNodeCertExpiry = time.Hour

// validateSwarmSpec refuses what swarmkit refuses in a swarm spec (zero means the default).
func validateSwarmSpec(s *swarm.Spec) error {
	if e := s.CAConfig.NodeCertExpiry; e != 0 && e < minNodeCertExpiry {
		return rpcError(codeInvalidArgument, "minimum certificate expiry time is: %s", minNodeCertExpiry)
	}
	if s.Dispatcher.HeartbeatPeriod < 0 {
		return rpcError(codeInvalidArgument, "heartbeat time period cannot be a negative duration")
	}
	return nil
}

// fillSwarmSpecDefaults gives a swarm spec the values Docker shows for fields left at zero.
func fillSwarmSpecDefaults(s *swarm.Spec) {
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	if s.Orchestration.TaskHistoryRetentionLimit == nil {
		five := int64(5)
		s.Orchestration.TaskHistoryRetentionLimit = &five
	}
	if s.Raft.SnapshotInterval == 0 {
		s.Raft.SnapshotInterval = 10000
	}
	if s.Raft.KeepOldSnapshots == nil {
		zero := uint64(0)
		s.Raft.KeepOldSnapshots = &zero
	}
	if s.Raft.LogEntriesForSlowFollowers == 0 {
		s.Raft.LogEntriesForSlowFollowers = 500
	}
	if s.Raft.ElectionTick == 0 {
		s.Raft.ElectionTick = 10
	}
	if s.Raft.HeartbeatTick == 0 {
		s.Raft.HeartbeatTick = 1
	}
	if s.Dispatcher.HeartbeatPeriod == 0 {
		s.Dispatcher.HeartbeatPeriod = 5 * time.Second
	}
	if s.CAConfig.NodeCertExpiry == 0 {
		s.CAConfig.NodeCertExpiry = 90 * 24 * time.Hour
	}
}

// FillSwarmSpecDefaults is fillSwarmSpecDefaults for the node layer, which writes the first cluster.
func FillSwarmSpecDefaults(s *swarm.Spec) { fillSwarmSpecDefaults(s) }

// NewUnlockKey makes a manager unlock key in Docker's form: SWMKEY-1- and 32 random bytes in base64.
func NewUnlockKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "SWMKEY-1-" + base64.RawStdEncoding.EncodeToString(b)
}
