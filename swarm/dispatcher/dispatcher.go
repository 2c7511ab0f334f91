package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/netview"
	"github.com/shoal-project/shoal/swarm/store"
)

// ErrNodeUnknown: a session for a node the store does not hold (removed, or never joined).
var ErrNodeUnknown = errors.New("node is not a member of the swarm")

// Dispatcher serves agent sessions on a manager.
type Dispatcher struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time

	mu        sync.Mutex
	lastBeat  map[string]time.Time  // node ID → last heartbeat
	addresses map[string]string     // node ID → address it was seen at
	sessions  map[string][]*Session // node ID → its open sessions, oldest first

	net netFeed // the network views of the open sessions
}

// New makes a dispatcher over a manager's store.
func New(st *store.Store, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.Default()
	}
	return &Dispatcher{st: st, log: log, now: time.Now, lastBeat: map[string]time.Time{}, addresses: map[string]string{},
		sessions: map[string][]*Session{}}
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// heartbeatPeriod is the cluster's Dispatcher.HeartbeatPeriod (default 5s).
func (d *Dispatcher) heartbeatPeriod() time.Duration {
	p := 5 * time.Second
	d.st.View(func(tx store.ReadTx) {
		if cl := tx.GetCluster(); cl != nil && cl.Spec.Dispatcher.HeartbeatPeriod > 0 {
			p = cl.Spec.Dispatcher.HeartbeatPeriod
		}
	})
	return p
}

// Open registers a node session: the node is marked ready with its description and address.
func (d *Dispatcher) Open(ctx context.Context, nodeID, addr string, desc swarm.NodeDescription) (*Session, error) {
	err := d.st.Update(ctx, func(tx store.Tx) error {
		cur := tx.GetNode(nodeID)
		if cur == nil {
			return ErrNodeUnknown
		}
		n := cur.Copy()
		n.Description = desc
		n.Description.TLSInfo = cur.Description.TLSInfo
		n.Status.State = swarm.NodeStateReady
		n.Status.Message = ""
		if addr != "" {
			n.Status.Addr = addr
		}
		if sameJSON(n.Description, cur.Description) && n.Status == cur.Status {
			return nil // a node that reconnects unchanged costs no write (and no version bump)
		}
		n.UpdatedAt = tx.Now()
		return tx.Update(n)
	})
	if err != nil {
		return nil, err
	}
	d.beat(nodeID)
	s := &Session{d: d, nodeID: nodeID, out: make(chan []agent.Task, 1), done: make(chan struct{}),
		logOut: make(chan []agent.LogSubscription, 1), logSubs: map[string]*logSubscription{},
		netOut: make(chan netview.NodeView, 1)}
	ch, cancel := d.st.ViewAndWatch(func(tx store.ReadTx) { s.send(assigned(tx, nodeID)) })
	s.cancelWatch = cancel
	s.logMu.Lock()
	s.sendLogSubscriptions()
	s.logMu.Unlock()
	d.addSession(s)
	d.pushNetworks([]*Session{s})
	go s.follow(ch)
	return s, nil
}

func (d *Dispatcher) beat(nodeID string) {
	d.mu.Lock()
	d.lastBeat[nodeID] = d.now()
	d.mu.Unlock()
}

// assigned lists what a node must run or stop: its tasks at or past assigned.
func assigned(tx store.ReadTx, nodeID string) []agent.Task {
	out := []agent.Task{}
	ports := map[string][]swarm.PortConfig{} // host-mode ports by service, looked up once each
	for _, t := range tx.TasksByNode(nodeID) {
		if agent.Rank(t.Status.State) < agent.Rank(swarm.TaskStateAssigned) {
			continue
		}
		a := agent.Task{Task: t.Task, ServiceAnnotations: swarm.Annotations{Name: t.ServiceName, Labels: t.ServiceLabels}}
		hp, ok := ports[t.ServiceID]
		if !ok {
			if svc := tx.GetService(t.ServiceID); svc != nil {
				hp = hostModePorts(svc)
			}
			ports[t.ServiceID] = hp
		}
		a.HostPorts = hp
		if a.Annotations.Name == "" {
			a.Annotations.Name = containerName(t)
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// hostModePorts are the ports a service publishes in host mode, which its tasks' nodes forward.
func hostModePorts(s *store.Service) []swarm.PortConfig {
	if s.Spec.EndpointSpec == nil {
		return nil
	}
	var out []swarm.PortConfig
	for _, p := range s.Spec.EndpointSpec.Ports {
		if p.PublishMode == swarm.PortConfigPublishModeHost {
			out = append(out, p)
		}
	}
	return out
}

// containerName is the name Docker gives a task's container: <service>.<slot>.<task id>, or
// <service>.<node id>.<task id> for a global service.
func containerName(t *store.Task) string {
	if t.Slot != 0 {
		return fmt.Sprintf("%s.%d.%s", t.ServiceName, t.Slot, t.ID)
	}
	return fmt.Sprintf("%s.%s.%s", t.ServiceName, t.NodeID, t.ID)
}

// UpdateStatus writes a batch of task status reports from a node. Reports for tasks the node does
// not own, or that would move a task backwards, are dropped.
func (d *Dispatcher) UpdateStatus(ctx context.Context, nodeID string, updates []agent.StatusUpdate) error {
	d.beat(nodeID)
	return d.st.Batch(ctx, func(b *store.Batch) error {
		for _, u := range updates {
			u := u
			err := b.Update(func(tx store.Tx) error {
				cur := tx.GetTask(u.TaskID)
				if cur == nil || cur.NodeID != nodeID {
					return nil
				}
				if agent.Rank(u.Status.State) < agent.Rank(cur.Status.State) ||
					(u.Status.State == cur.Status.State && !u.Status.Timestamp.After(cur.Status.Timestamp)) {
					return nil
				}
				t := cur.Copy()
				t.Status = u.Status
				return tx.Update(t)
			})
			if err != nil {
				d.log.Warn("dispatcher: status update dropped", "task", u.TaskID, "err", err)
			}
		}
		return nil
	})
}

// CheckHeartbeats marks down the ready nodes whose last heartbeat is older than three periods; the
// leader calls it periodically. It returns how many it marked.
func (d *Dispatcher) CheckHeartbeats(ctx context.Context) (int, error) {
	now := d.now()
	limit := 3 * d.heartbeatPeriod()
	d.mu.Lock()
	beats := make(map[string]time.Time, len(d.lastBeat))
	for k, v := range d.lastBeat {
		beats[k] = v
	}
	d.mu.Unlock()
	marked := 0
	err := d.st.Update(ctx, func(tx store.Tx) error {
		for _, n := range tx.ListNodes() {
			if n.Status.State != swarm.NodeStateReady {
				continue
			}
			last, ok := beats[n.ID]
			if !ok {
				// not seen by this dispatcher yet (a new leader): start the clock now
				d.mu.Lock()
				d.lastBeat[n.ID] = now
				d.mu.Unlock()
				continue
			}
			if now.Sub(last) <= limit {
				continue
			}
			c := n.Copy()
			c.Status.State = swarm.NodeStateDown
			c.Status.Message = "heartbeat failure"
			c.UpdatedAt = tx.Now()
			if err := tx.Update(c); err != nil {
				return err
			}
			marked++
		}
		return nil
	})
	return marked, err
}

// RunHeartbeatChecks marks silent nodes down until ctx ends (leader only).
func (d *Dispatcher) RunHeartbeatChecks(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d.heartbeatPeriod() / 2):
		}
		if _, err := d.CheckHeartbeats(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("dispatcher: heartbeat check", "err", err)
		}
	}
}

// Session is one node's session; it implements agent.Session, agent.LogSession and
// agent.NetworkSession.
type Session struct {
	d           *Dispatcher
	nodeID      string
	out         chan []agent.Task
	done        chan struct{}
	once        sync.Once
	cancelWatch func()

	logMu     sync.Mutex
	logSubs   map[string]*logSubscription // open log subscriptions by ID
	logOut    chan []agent.LogSubscription
	logClosed bool

	netMu   sync.Mutex
	netOut  chan netview.NodeView
	netSent bool             // a view was sent: netLast holds it
	netLast netview.NodeView // the view last sent
}

func (s *Session) send(tasks []agent.Task) {
	// keep only the newest set: drop an unread older one
	select {
	case <-s.out:
	default:
	}
	s.out <- tasks
}

func (s *Session) follow(ch <-chan store.Event) {
	for ev := range ch {
		switch o := ev.Object.(type) {
		case *store.Task:
			old, _ := ev.Old.(*store.Task)
			if o.NodeID != s.nodeID && (old == nil || old.NodeID != s.nodeID) {
				continue
			}
		case *store.Node:
			if o.ID == s.nodeID && ev.Action == store.Delete {
				s.Close()
				return
			}
			continue
		default:
			continue
		}
		var tasks []agent.Task
		s.d.st.View(func(tx store.ReadTx) { tasks = assigned(tx, s.nodeID) })
		s.send(tasks)
	}
}

// Assignments implements agent.Session.
func (s *Session) Assignments() <-chan []agent.Task { return s.out }

// UpdateStatus implements agent.Session.
func (s *Session) UpdateStatus(ctx context.Context, u []agent.StatusUpdate) error {
	return s.d.UpdateStatus(ctx, s.nodeID, u)
}

// Heartbeat implements agent.Session.
func (s *Session) Heartbeat(ctx context.Context) (time.Duration, error) {
	s.d.beat(s.nodeID)
	return s.d.heartbeatPeriod(), nil
}

// Done implements agent.Session.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close implements agent.Session.
func (s *Session) Close() {
	s.once.Do(func() {
		s.cancelWatch()
		s.d.removeSession(s)
		s.logMu.Lock()
		s.logClosed = true
		s.logMu.Unlock()
		close(s.done) // the readers of its log subscriptions end with "node is not available"
	})
}

// Dependencies answers a node's request for secrets and configs: only those that a task assigned to
// the node refers to, with their data.
func (s *Session) Dependencies(ctx context.Context, secretIDs, configIDs []string) ([]swarm.Secret, []swarm.Config, error) {
	secrets, configs := []swarm.Secret{}, []swarm.Config{}
	var err error
	s.d.st.View(func(tx store.ReadTx) {
		usedSecrets, usedConfigs := map[string]bool{}, map[string]bool{}
		for _, t := range tx.TasksByNode(s.nodeID) {
			if cs := t.Spec.ContainerSpec; cs != nil {
				for _, r := range cs.Secrets {
					usedSecrets[r.SecretID] = true
				}
				for _, r := range cs.Configs {
					usedConfigs[r.ConfigID] = true
				}
			}
		}
		for _, id := range secretIDs {
			sec := tx.GetSecret(id)
			if sec == nil || !usedSecrets[id] {
				err = fmt.Errorf("secret %s not found", id)
				return
			}
			secrets = append(secrets, sec.Secret)
		}
		for _, id := range configIDs {
			cfg := tx.GetConfig(id)
			if cfg == nil || !usedConfigs[id] {
				err = fmt.Errorf("config %s not found", id)
				return
			}
			configs = append(configs, cfg.Config)
		}
	})
	return secrets, configs, err
}

// RegistryAuth answers a node's request for the registry auth of a service it runs a task of.
func (s *Session) RegistryAuth(ctx context.Context, serviceID string) (string, error) {
	var auth string
	var err error
	s.d.st.View(func(tx store.ReadTx) {
		svc := tx.GetService(serviceID)
		runs := false
		for _, t := range tx.TasksByNode(s.nodeID) {
			if t.ServiceID == serviceID {
				runs = true
				break
			}
		}
		if svc == nil || !runs {
			err = fmt.Errorf("service %s not found", serviceID)
			return
		}
		auth = svc.RegistryAuth
	})
	return auth, err
}
