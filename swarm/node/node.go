package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/backend"
	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/ca"
	"github.com/shoal-project/shoal/swarm/control"
	"github.com/shoal-project/shoal/swarm/dispatcher"
	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/transport"
)

// Loop is a leader-only control loop: it runs until ctx ends.
type Loop interface {
	Run(ctx context.Context) error
}

// Config is what every membership of this host shares.
type Config struct {
	// Dir is <data-root>/swarm.
	Dir      string
	Executor agent.Executor
	Logger   *slog.Logger
	// LeaderLoops makes the control loops a leader runs over its store (orchestrators, allocator,
	// scheduler, reaper). Called each time this manager becomes leader.
	LeaderLoops func(st *store.Store) []Loop
	// OnChange, when set, is told of every committed store change (swarm events).
	OnChange func(ev store.Event)
	// OnLeave, when set, runs after the node has left its swarm: dockerd removes the task
	// containers then.
	OnLeave func()
}

// Manager is the Lifecycle of this host: it makes, restores and ends memberships.
type Manager struct {
	cfg Config
	api http.Handler // the Engine API, served to other managers that forward to this one
}

// NewManager makes the lifecycle for a host.
func NewManager(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{cfg: cfg}
}

// SetAPI gives the Engine API handler that a leader serves to followers forwarding requests. Call it
// before Restore, Init or Join.
func (m *Manager) SetAPI(h http.Handler) { m.api = h }

// Membership is one running membership of a swarm: a manager (store, Raft, dispatcher, channel
// listener, leader loops) or a worker (its identity only), each with its agent. A node's role can
// change while it runs (promote, demote): the manager half starts and stops with it.
type Membership struct {
	cfg   Config
	api   http.Handler
	creds *transport.Credentials
	// client reaches the managers: the agent's dispatcher, renewal, manager admission.
	client *transport.Client

	mu     sync.RWMutex
	state  state
	mgr    *managerParts // nil on a worker
	keyPEM []byte        // the node key, in clear (on disk it is locked with autolock)
	unlock string        // the unlock key the key on disk is locked with ("" for none)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// managerParts are what a node runs while it is a manager.
type managerParts struct {
	st      *store.Store
	raft    *raft.Node
	disp    *dispatcher.Dispatcher
	srv     *transport.Server
	forward *transport.Forwarder
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func (mb *Membership) manager() *managerParts {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	return mb.mgr
}

var _ control.Lifecycle = (*Manager)(nil)
var _ control.Node = (*Membership)(nil)
var _ control.TaskLogSource = (*Membership)(nil)

// Restore starts the membership kept in the data root, if there is one (nil, nil otherwise).
func (m *Manager) Restore(ctx context.Context) (control.Node, error) {
	s, err := loadState(m.cfg.Dir)
	if err != nil || s == nil {
		return nil, err
	}
	id, err := loadIdentity(m.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("restore swarm membership: %w", err)
	}
	if isLocked(id.keyPEM) {
		m.cfg.Logger.Warn("swarm is locked: use docker swarm unlock")
		return lockedNode{state: *s}, nil
	}
	mb, err := m.start(ctx, *s, id, startRestore)
	if err != nil {
		return nil, fmt.Errorf("restore swarm membership: %w", err)
	}
	return mb, nil
}

type startMode int

const (
	startInit startMode = iota
	startJoin
	startRestore
)

// Init implements control.Lifecycle: a new swarm with this node as its only manager.
func (m *Manager) Init(ctx context.Context, req swarm.InitRequest) (control.Node, error) {
	adv, err := advertiseAddr(req.AdvertiseAddr, req.ListenAddr, "")
	if err != nil {
		return nil, err
	}
	if err := resetDir(m.cfg.Dir); err != nil {
		return nil, err
	}
	s := state{NodeID: store.NewID(), ClusterID: store.NewID(), Role: string(swarm.NodeRoleManager),
		ListenAddr: req.ListenAddr, AdvertiseAddr: adv, DataPathAddr: req.DataPathAddr}
	now := time.Now()
	root, err := ca.NewRootCA(now)
	if err != nil {
		return nil, err
	}
	key, keyPEM, err := transport.NewNodeKey()
	if err != nil {
		return nil, err
	}
	expiry := req.Spec.CAConfig.NodeCertExpiry
	certPEM, err := root.IssueNodeCert(&key.PublicKey, s.NodeID, ca.OUManager, s.ClusterID, now, expiry)
	if err != nil {
		return nil, err
	}
	id := identity{certPEM: certPEM, keyPEM: keyPEM, rootPEM: root.CertPEM}
	// the identity goes to disk before the membership starts: its cluster watcher then rewrites the
	// key, locked, when the swarm is autolocked, and nothing writes it in clear after that
	if err := saveIdentity(m.cfg.Dir, id); err != nil {
		os.RemoveAll(m.cfg.Dir)
		return nil, err
	}
	mb, err := m.start(ctx, s, id, startInit)
	if err != nil {
		os.RemoveAll(m.cfg.Dir)
		return nil, err
	}
	if err := mb.bootstrap(ctx, req, root); err != nil {
		mb.stop()
		os.RemoveAll(m.cfg.Dir)
		return nil, err
	}
	// the state last: a restart finds a swarm only once it is bootstrapped
	if err := saveState(m.cfg.Dir, &s); err != nil {
		mb.stop()
		return nil, err
	}
	mb.startAgent()
	return mb, nil
}

// Join implements control.Lifecycle: enrol with a manager using the join token, then run as the
// role the token grants.
func (m *Manager) Join(ctx context.Context, req swarm.JoinRequest) (control.Node, error) {
	remote := req.RemoteAddrs[0]
	if _, _, err := net.SplitHostPort(remote); err != nil {
		remote = net.JoinHostPort(remote, "2377")
	}
	adv, err := advertiseAddr(req.AdvertiseAddr, req.ListenAddr, remote)
	if err != nil {
		return nil, err
	}
	key, keyPEM, err := transport.NewNodeKey()
	if err != nil {
		return nil, err
	}
	enr, err := transport.Join(ctx, remote, req.JoinToken, adv, &key.PublicKey)
	if err != nil {
		return nil, joinError(err)
	}
	if err := resetDir(m.cfg.Dir); err != nil {
		return nil, err
	}
	s := state{NodeID: enr.NodeID, ClusterID: enr.ClusterID, Role: string(enr.Role), ListenAddr: req.ListenAddr,
		AdvertiseAddr: adv, DataPathAddr: req.DataPathAddr}
	for _, mgr := range enr.Managers {
		s.Managers = append(s.Managers, mgr.Addr)
	}
	id := identity{certPEM: enr.CertPEM, keyPEM: keyPEM, rootPEM: enr.RootPEM}
	if err := persist(m.cfg.Dir, &s, id); err != nil {
		return nil, err
	}
	mb, err := m.start(ctx, s, id, startJoin)
	if err != nil {
		os.RemoveAll(m.cfg.Dir)
		return nil, err
	}
	return mb, nil
}

// joinError gives a failed enrolment Docker's class: the manager's gRPC-style answers keep their text.
func joinError(err error) error {
	var se *transport.StatusError
	if errors.As(err, &se) {
		switch se.Code {
		case "InvalidArgument", "FailedPrecondition":
			return errdefs.InvalidParameter(err)
		case "NotFound":
			return errdefs.NotFound(err)
		case "Unavailable":
			return errdefs.Unavailable(err)
		}
		return errdefs.System(err)
	}
	if errors.Is(err, ca.ErrWrongCluster) || errors.Is(err, ca.ErrInvalidToken) {
		return errdefs.InvalidParameter(err)
	}
	return errdefs.Unavailable(fmt.Errorf("Timeout was reached before node joined. The attempt to join the swarm will continue in the background. Use the \"docker info\" command to see the current swarm status of your node. (%w)", err))
}

// ForceNewCluster implements control.Lifecycle: stop the manager, make it the only Raft voter with
// all the state it holds, and start it again.
func (m *Manager) ForceNewCluster(ctx context.Context, n control.Node, req swarm.InitRequest) (control.Node, error) {
	mb, ok := n.(*Membership)
	if !ok {
		return nil, errors.New("node: unknown membership")
	}
	mb.stop()
	mb.mu.RLock()
	s := mb.state
	mb.mu.RUnlock()
	if err := raft.RecoverAlone(filepath.Join(m.cfg.Dir, "raft"), s.NodeID, s.AdvertiseAddr, m.cfg.Logger); err != nil {
		return nil, err
	}
	id, err := loadIdentity(m.cfg.Dir)
	if err != nil {
		return nil, err
	}
	return m.start(ctx, s, id, startRestore)
}

// Leave implements control.Lifecycle: stop everything and erase the membership's state.
func (m *Manager) Leave(ctx context.Context, n control.Node) error {
	mb, ok := n.(*Membership)
	if !ok {
		if _, locked := n.(lockedNode); !locked {
			return errors.New("node: unknown membership")
		}
		return os.RemoveAll(m.cfg.Dir)
	}
	mb.stop()
	if m.cfg.OnLeave != nil {
		m.cfg.OnLeave()
	}
	return os.RemoveAll(m.cfg.Dir)
}

func resetDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o700)
}

func persist(dir string, s *state, id identity) error {
	if err := saveIdentity(dir, id); err != nil {
		return err
	}
	return saveState(dir, s)
}

func (m *Manager) start(ctx context.Context, s state, id identity, mode startMode) (*Membership, error) {
	creds, err := id.credentials()
	if err != nil {
		return nil, err
	}
	mb := &Membership{cfg: m.cfg, api: m.api, state: s, creds: creds, keyPEM: id.keyPEM}
	mb.ctx, mb.cancel = context.WithCancel(context.Background())
	managers := s.Managers
	if s.Role == string(swarm.NodeRoleManager) {
		managers = append([]string{s.AdvertiseAddr}, managers...)
	}
	mb.client = transport.NewClient(creds, managers)
	if s.Role == string(swarm.NodeRoleManager) {
		mgr, err := mb.startManager(ctx, mode)
		if err != nil {
			mb.stop()
			return nil, err
		}
		mb.mgr = mgr
	}
	mb.wg.Add(1)
	go func() { defer mb.wg.Done(); mb.identityLoop(id) }()
	if mode != startInit {
		mb.startAgent()
	}
	return mb, nil
}

// startManager starts the manager half: the channel listener, Raft over it, the dispatcher and CA
// services, and the leadership loop.
func (mb *Membership) startManager(ctx context.Context, mode startMode) (*managerParts, error) {
	log := mb.cfg.Logger
	mb.mu.RLock()
	s := mb.state
	mb.mu.RUnlock()
	m := &managerParts{}
	mctx, cancel := context.WithCancel(mb.ctx)
	m.cancel = cancel
	fail := func(err error) (*managerParts, error) {
		m.stop()
		return nil, err
	}
	srv, err := transport.Listen(s.ListenAddr, mb.creds)
	if err != nil {
		return fail(errdefs.InvalidParameter(fmt.Errorf("failed to listen on remote API address: %w", err)))
	}
	srv.SetLogger(log)
	m.srv = srv
	trans, err := transport.NewRaftTransport(srv, s.AdvertiseAddr, log)
	if err != nil {
		return fail(err)
	}
	m.st = store.New(nil)
	rn, err := raft.Open(raft.Config{Dir: filepath.Join(mb.cfg.Dir, "raft"), ID: s.NodeID, Addr: s.AdvertiseAddr,
		Transport: trans, Bootstrap: mode == startInit, Logger: log}, m.st)
	if err != nil {
		return fail(err)
	}
	m.raft = rn
	m.st.SetProposer(rn)
	m.disp = dispatcher.New(m.st, log)
	srv.SetLeadership(rn)
	srv.ServeDispatcher(m.disp)
	srv.ServeEnroller(&enroller{st: m.st, raft: rn})
	srv.ServeMembers(members{raft: rn})
	if mb.api != nil {
		srv.ServeAPI(mb.api)
	}
	m.forward = transport.NewForwarder(mb.creds, rn.LeaderAddr)
	if mode == startJoin {
		// ask the leader to make this manager a voter; it then replicates the store here
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := mb.client.AddManager(actx, s.AdvertiseAddr)
		cancel()
		if err != nil {
			return fail(joinError(err))
		}
	}
	if mb.cfg.OnChange != nil {
		changes, stopWatch := m.st.Watch()
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			defer stopWatch()
			for {
				select {
				case ev := <-changes:
					mb.cfg.OnChange(ev)
				case <-mctx.Done():
					return
				}
			}
		}()
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	hasCluster := func() bool {
		if mode == startInit {
			return true // bootstrap writes the cluster next
		}
		var ok bool
		m.st.View(func(tx store.ReadTx) { ok = tx.GetCluster() != nil })
		return ok
	}
	if err := rn.WaitReady(wctx, hasCluster); err != nil && mode != startRestore {
		return fail(fmt.Errorf("raft: not ready: %w", err))
	}
	m.wg.Add(2)
	go func() { defer m.wg.Done(); mb.leadership(mctx, m) }()
	go func() { defer m.wg.Done(); mb.clusterWatcher(mctx, m.st, m.raft) }()
	return m, nil
}

// stop ends the manager half of a node.
func (m *managerParts) stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.forward != nil {
		m.forward.Close()
	}
	if m.raft != nil {
		m.raft.Shutdown()
	}
	if m.srv != nil {
		m.srv.Close()
	}
}

// leadership runs the leader loops while this manager leads.
func (mb *Membership) leadership(ctx context.Context, m *managerParts) {
	var stop context.CancelFunc
	var wg sync.WaitGroup
	end := func() {
		if stop != nil {
			stop()
			wg.Wait()
			stop = nil
		}
	}
	defer end()
	lead := func() {
		if stop != nil {
			return
		}
		lctx, cancel := context.WithCancel(ctx)
		stop = cancel
		loops := []Loop{loopFunc(m.disp.RunHeartbeatChecks), managerStatusLoop{st: m.st, raft: m.raft, self: m.raft.ID()},
			raftMembershipLoop{st: m.st, raft: m.raft}, loopFunc(ensurePredefinedNetworks(m.st))}
		if mb.cfg.LeaderLoops != nil {
			loops = append(loops, mb.cfg.LeaderLoops(m.st)...)
		}
		for _, l := range loops {
			wg.Add(1)
			go func(l Loop) {
				defer wg.Done()
				if err := l.Run(lctx); err != nil && lctx.Err() == nil {
					mb.cfg.Logger.Error("leader loop stopped", "err", err)
				}
			}(l)
		}
	}
	if m.raft.IsLeader() {
		lead()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case leader := <-m.raft.LeaderCh():
			if leader {
				lead()
			} else {
				end()
			}
		}
	}
}

type loopFunc func(ctx context.Context) error

func (f loopFunc) Run(ctx context.Context) error { return f(ctx) }

// startAgent runs this node's agent; it reaches the dispatcher over the channel, like any node's.
func (mb *Membership) startAgent() {
	if mb.cfg.Executor == nil {
		return
	}
	a := agent.New(agent.Config{NodeID: mb.NodeID(), Executor: mb.cfg.Executor, Dispatcher: mb.client, Logger: mb.cfg.Logger})
	mb.wg.Add(1)
	go func() { defer mb.wg.Done(); a.Run(mb.ctx) }()
}

func (mb *Membership) stop() {
	if mb.cancel != nil {
		mb.cancel()
	}
	mb.wg.Wait()
	mb.mu.Lock()
	m := mb.mgr
	mb.mgr = nil
	mb.mu.Unlock()
	if m != nil {
		m.stop()
	}
}

// Close stops the membership without erasing it (shoald shutting down).
func (mb *Membership) Close() { mb.stop() }

// Store implements control.Node: nil on a worker.
func (mb *Membership) Store() *store.Store {
	if m := mb.manager(); m != nil {
		return m.st
	}
	return nil
}

// TaskLogs implements control.TaskLogSource: the log of task t, read by the agent of the node that
// runs it and sent over its session with this manager's dispatcher. errdefs.Unavailable on a worker.
func (mb *Membership) TaskLogs(ctx context.Context, t swarm.Task, opts containertypes.LogsOptions) (<-chan *backend.LogMessage, error) {
	m := mb.manager()
	if m == nil {
		return nil, errdefs.Unavailable(errors.New("this node is not a swarm manager"))
	}
	return m.disp.TaskLogs(ctx, t, opts)
}

// NodeID implements control.Node.
func (mb *Membership) NodeID() string {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	return mb.state.NodeID
}

// Addr implements control.Node.
func (mb *Membership) Addr() string {
	mb.mu.RLock()
	defer mb.mu.RUnlock()
	return mb.state.AdvertiseAddr
}

// RemoteManagers implements control.Node.
func (mb *Membership) RemoteManagers() []swarm.Peer {
	out := []swarm.Peer{}
	if m := mb.manager(); m != nil {
		servers, err := m.raft.Servers()
		if err == nil {
			for _, s := range servers {
				out = append(out, swarm.Peer{NodeID: string(s.ID), Addr: string(s.Address)})
			}
			return out
		}
	}
	for _, a := range mb.client.Managers() {
		out = append(out, swarm.Peer{Addr: a})
	}
	return out
}

// RaftMembers implements control.Node.
func (mb *Membership) RaftMembers() (reachable, unreachable int) {
	m := mb.manager()
	if m == nil {
		return 0, 0
	}
	servers, err := m.raft.Servers()
	if err != nil {
		return 1, 0
	}
	down := m.raft.Unreachable()
	for _, s := range servers {
		if down[string(s.ID)] {
			unreachable++
		} else {
			reachable++
		}
	}
	return reachable, unreachable
}

// clusterPaths are the Engine API paths a follower manager forwards to the leader.
var clusterPaths = []string{"/swarm", "/services", "/tasks", "/nodes", "/secrets", "/configs", "/networks"}

// localSwarmCalls act on this node itself and are never forwarded.
var localSwarmCalls = map[string]bool{"/swarm/init": true, "/swarm/join": true, "/swarm/leave": true, "/swarm/unlock": true}

// ShouldForward tells whether an API request must go to the leader: a cluster call on a manager that
// does not lead, which no other manager has forwarded already.
func (mb *Membership) ShouldForward(r *http.Request) bool {
	m := mb.manager()
	if m == nil || m.raft.IsLeader() || transport.ForwardedBy(r) != "" {
		return false
	}
	p := stripVersion(r.URL.Path)
	if localSwarmCalls[p] {
		return false
	}
	for _, c := range clusterPaths {
		if p == c || strings.HasPrefix(p, c+"/") {
			return true
		}
	}
	return false
}

// Forward sends a request to the leader over the cluster channel and copies its answer back.
func (mb *Membership) Forward(w http.ResponseWriter, r *http.Request) {
	m := mb.manager()
	if m == nil {
		http.Error(w, `{"message":"This node is not a swarm manager."}`, http.StatusServiceUnavailable)
		return
	}
	m.forward.ServeHTTP(w, r)
}

func stripVersion(p string) string {
	if strings.HasPrefix(p, "/v1.") {
		if i := strings.IndexByte(p[1:], '/'); i >= 0 {
			return p[i+1:]
		}
	}
	return p
}

// bootstrap writes the first objects of a new swarm: the cluster, this node, the ingress network.
func (mb *Membership) bootstrap(ctx context.Context, req swarm.InitRequest, root *ca.RootCA) error {
	desc, err := mb.describe(ctx)
	if err != nil {
		return err
	}
	return mb.manager().st.Update(ctx, func(tx store.Tx) error {
		cl := &store.Cluster{RootCAKey: root.KeyPEM}
		cl.ID = mb.state.ClusterID
		cl.Spec = req.Spec
		cl.TLSInfo = swarm.TLSInfo{TrustRoot: string(root.CertPEM), CertIssuerSubject: root.IssuerSubject(), CertIssuerPublicKey: root.IssuerPublicKey()}
		cl.DefaultAddrPool = req.DefaultAddrPool
		cl.SubnetSize = req.SubnetSize
		cl.DataPathPort = req.DataPathPort
		cl.JoinTokens = swarm.JoinTokens{Worker: ca.GenerateToken(root), Manager: ca.GenerateToken(root)}
		if req.Spec.EncryptionConfig.AutoLockManagers {
			cl.UnlockKey = control.NewUnlockKey()
		}
		if err := tx.Create(cl); err != nil {
			return err
		}
		n := &store.Node{RaftID: mb.state.NodeID}
		n.ID = mb.state.NodeID
		n.Spec = swarm.NodeSpec{Annotations: swarm.Annotations{Labels: map[string]string{}}, Role: swarm.NodeRoleManager, Availability: swarm.NodeAvailabilityActive}
		if req.Availability != "" {
			n.Spec.Availability = req.Availability
		}
		n.Description = desc
		n.Description.TLSInfo = cl.TLSInfo
		n.Status = swarm.NodeStatus{State: swarm.NodeStateReady, Addr: hostOf(mb.state.AdvertiseAddr)}
		n.ManagerStatus = &swarm.ManagerStatus{Leader: true, Reachability: swarm.ReachabilityReachable, Addr: mb.state.AdvertiseAddr}
		if err := tx.Create(n); err != nil {
			return err
		}
		ing := &store.Network{}
		ing.ID = store.NewID()
		ing.Spec = swarm.NetworkSpec{Annotations: swarm.Annotations{Name: "ingress", Labels: map[string]string{}},
			DriverConfiguration: &swarm.Driver{Name: "overlay"}, Ingress: true, Scope: "swarm"}
		if err := tx.Create(ing); err != nil {
			return err
		}
		return createPredefinedNetworks(tx)
	})
}

func (mb *Membership) describe(ctx context.Context) (swarm.NodeDescription, error) {
	if mb.cfg.Executor == nil {
		h, _ := os.Hostname()
		return swarm.NodeDescription{Hostname: h, Platform: swarm.Platform{Architecture: "x86_64", OS: "linux"}}, nil
	}
	return mb.cfg.Executor.Describe(ctx)
}

// advertiseAddr picks the address to advertise as host:port: the one given, else the listen address
// when it names a host, else the source address towards remote (joining) or of the default route.
func advertiseAddr(adv, listen, remote string) (string, error) {
	_, lport, err := net.SplitHostPort(listen)
	if err != nil {
		lport = "2377"
	}
	if adv != "" {
		if _, _, err := net.SplitHostPort(adv); err == nil {
			return adv, nil
		}
		if net.ParseIP(adv) != nil {
			return net.JoinHostPort(adv, lport), nil
		}
		if ifc, err := net.InterfaceByName(adv); err == nil {
			if ip := interfaceIP(ifc); ip != "" {
				return net.JoinHostPort(ip, lport), nil
			}
		}
		return "", errdefs.InvalidParameter(fmt.Errorf("advertise address must be a non-zero IP address or network interface (with optional port number)"))
	}
	lhost, _, _ := net.SplitHostPort(listen)
	if ip := net.ParseIP(lhost); ip != nil && !ip.IsUnspecified() {
		return listen, nil
	}
	target := remote
	if target == "" {
		target = "198.18.0.1:9" // a route lookup only: a UDP "connect" sends nothing
	}
	ip, err := sourceIP(target)
	if err != nil {
		return "", errdefs.InvalidParameter(errors.New("could not choose an IP address to advertise since this system has no default route; use --advertise-addr"))
	}
	return net.JoinHostPort(ip, lport), nil
}

func interfaceIP(ifc *net.Interface) string {
	addrs, _ := ifc.Addrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// sourceIP finds the local address the kernel would use towards addr, without sending anything.
func sourceIP(addr string) (string, error) {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
