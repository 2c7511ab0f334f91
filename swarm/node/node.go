package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/ca"
	"github.com/shoal-project/shoal/swarm/control"
	"github.com/shoal-project/shoal/swarm/dispatcher"
	"github.com/shoal-project/shoal/swarm/raft"
	"github.com/shoal-project/shoal/swarm/store"
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
}

// Manager is the Lifecycle of this host: it makes, restores and ends memberships.
type Manager struct {
	cfg Config
}

// NewManager makes the lifecycle for a host.
func NewManager(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{cfg: cfg}
}

// Membership is one running membership of a swarm.
type Membership struct {
	cfg    Config
	state  state
	st     *store.Store
	raft   *raft.Node
	disp   *dispatcher.Dispatcher
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ control.Lifecycle = (*Manager)(nil)
var _ control.Node = (*Membership)(nil)

// Restore starts the membership kept in the data root, if there is one (nil, nil otherwise).
func (m *Manager) Restore(ctx context.Context) (*Membership, error) {
	s, err := loadState(m.cfg.Dir)
	if err != nil || s == nil {
		return nil, err
	}
	mb, err := m.start(ctx, *s, false)
	if err != nil {
		return nil, fmt.Errorf("restore swarm membership: %w", err)
	}
	return mb, nil
}

// Init implements control.Lifecycle: a new swarm with this node as its only manager.
func (m *Manager) Init(ctx context.Context, req swarm.InitRequest) (control.Node, error) {
	adv, err := advertiseAddr(req.AdvertiseAddr, req.ListenAddr)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(m.cfg.Dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(m.cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	s := state{NodeID: store.NewID(), ClusterID: store.NewID(), Role: string(swarm.NodeRoleManager),
		ListenAddr: req.ListenAddr, AdvertiseAddr: adv, DataPathAddr: req.DataPathAddr}
	mb, err := m.start(ctx, s, true)
	if err != nil {
		os.RemoveAll(m.cfg.Dir)
		return nil, err
	}
	if err := mb.bootstrap(ctx, req); err != nil {
		mb.stop()
		os.RemoveAll(m.cfg.Dir)
		return nil, err
	}
	if err := saveState(m.cfg.Dir, &s); err != nil {
		mb.stop()
		return nil, err
	}
	mb.startAgent()
	return mb, nil
}

// Join implements control.Lifecycle. Joining other hosts needs the cluster channel.
func (m *Manager) Join(ctx context.Context, req swarm.JoinRequest) (control.Node, error) {
	return nil, errdefs.NotImplemented(errors.New("joining a swarm is not supported by this node yet"))
}

// Leave implements control.Lifecycle: stop everything and erase the membership's state.
func (m *Manager) Leave(ctx context.Context, n control.Node) error {
	mb, ok := n.(*Membership)
	if !ok {
		return errors.New("node: unknown membership")
	}
	mb.stop()
	return os.RemoveAll(m.cfg.Dir)
}

func (m *Manager) start(ctx context.Context, s state, bootstrap bool) (*Membership, error) {
	mb := &Membership{cfg: m.cfg, state: s}
	mb.st = store.New(nil)
	rn, err := raft.Open(raft.Config{Dir: filepath.Join(m.cfg.Dir, "raft"), ID: s.NodeID, Addr: s.AdvertiseAddr,
		Bootstrap: bootstrap, Logger: m.cfg.Logger}, mb.st)
	if err != nil {
		return nil, err
	}
	mb.raft = rn
	mb.st.SetProposer(rn)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := rn.WaitLeader(wctx); err != nil {
		rn.Shutdown()
		return nil, fmt.Errorf("raft: no leader: %w", err)
	}
	mb.disp = dispatcher.New(mb.st, m.cfg.Logger)
	rctx, rcancel := context.WithCancel(context.Background())
	mb.cancel = rcancel
	if m.cfg.OnChange != nil {
		changes, stopWatch := mb.st.Watch()
		mb.wg.Add(1)
		go func() {
			defer mb.wg.Done()
			defer stopWatch()
			for {
				select {
				case ev := <-changes:
					m.cfg.OnChange(ev)
				case <-rctx.Done():
					return
				}
			}
		}()
	}
	mb.wg.Add(1)
	go func() { defer mb.wg.Done(); mb.leadership(rctx) }()
	if !bootstrap {
		mb.startAgent()
	}
	return mb, nil
}

// leadership runs the leader loops while this manager leads.
func (mb *Membership) leadership(ctx context.Context) {
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
		loops := []Loop{loopFunc(mb.disp.RunHeartbeatChecks)}
		if mb.cfg.LeaderLoops != nil {
			loops = append(loops, mb.cfg.LeaderLoops(mb.st)...)
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
	if mb.raft.IsLeader() {
		lead()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case leader := <-mb.raft.LeaderCh():
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

func (mb *Membership) startAgent() {
	if mb.cfg.Executor == nil {
		return
	}
	a := agent.New(agent.Config{NodeID: mb.state.NodeID, Executor: mb.cfg.Executor,
		Dispatcher: dispatcher.Local{D: mb.disp, Addr: hostOf(mb.state.AdvertiseAddr)}, Logger: mb.cfg.Logger})
	ctx, cancel := context.WithCancel(context.Background())
	prev := mb.cancel
	mb.cancel = func() { cancel(); prev() }
	mb.wg.Add(1)
	go func() { defer mb.wg.Done(); a.Run(ctx) }()
}

func (mb *Membership) stop() {
	if mb.cancel != nil {
		mb.cancel()
	}
	mb.wg.Wait()
	if mb.raft != nil {
		mb.raft.Shutdown()
	}
}

// Close stops the membership without erasing it (shoald shutting down).
func (mb *Membership) Close() { mb.stop() }

// Store implements control.Node.
func (mb *Membership) Store() *store.Store { return mb.st }

// NodeID implements control.Node.
func (mb *Membership) NodeID() string { return mb.state.NodeID }

// Addr implements control.Node.
func (mb *Membership) Addr() string { return mb.state.AdvertiseAddr }

// RemoteManagers implements control.Node.
func (mb *Membership) RemoteManagers() []swarm.Peer {
	servers, err := mb.raft.Servers()
	if err != nil {
		return nil
	}
	out := []swarm.Peer{}
	for _, s := range servers {
		out = append(out, swarm.Peer{NodeID: string(s.ID), Addr: string(s.Address)})
	}
	return out
}

// RaftMembers implements control.Node.
func (mb *Membership) RaftMembers() (reachable, unreachable int) {
	servers, err := mb.raft.Servers()
	if err != nil {
		return 1, 0
	}
	return len(servers), 0
}

// bootstrap writes the first objects of a new swarm: the cluster, this node, the ingress network.
func (mb *Membership) bootstrap(ctx context.Context, req swarm.InitRequest) error {
	desc, err := mb.describe(ctx)
	if err != nil {
		return err
	}
	return mb.st.Update(ctx, func(tx store.Tx) error {
		now := tx.Now()
		root, err := ca.NewRootCA(now)
		if err != nil {
			return err
		}
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
		return tx.Create(ing)
	})
}

func (mb *Membership) describe(ctx context.Context) (swarm.NodeDescription, error) {
	if mb.cfg.Executor == nil {
		h, _ := os.Hostname()
		return swarm.NodeDescription{Hostname: h, Platform: swarm.Platform{Architecture: "x86_64", OS: "linux"}}, nil
	}
	return mb.cfg.Executor.Describe(ctx)
}

// advertiseAddr picks the address to advertise as host:port.
func advertiseAddr(adv, listen string) (string, error) {
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
	ip, err := defaultRouteIP()
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

// defaultRouteIP finds the source address of the default route without sending anything.
func defaultRouteIP() (string, error) {
	c, err := net.Dial("udp4", "198.18.0.1:9")
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
