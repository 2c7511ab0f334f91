package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"sync"
	"time"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/dispatcher"
	"github.com/shoal-project/shoal/swarm/netview"
)

// dispatcherService serves the agent sessions of one connection.
type dispatcherService struct {
	s    *Server
	ctx  context.Context
	peer Peer

	mu       sync.Mutex
	sessions map[string]*serverSession
}

// dispatcherSession is what the channel serves of a manager's session (*dispatcher.Session). A
// session that is also an agent.NetworkSession delivers the node's network views.
type dispatcherSession interface {
	agent.Session
	agent.LogSession
	agent.DependencySession
}

var _ dispatcherSession = (*dispatcher.Session)(nil)

// serverSession is a dispatcher session and the latest task set, log subscription set and network
// view it delivered.
type serverSession struct {
	ds    dispatcherSession
	tasks *versioned[[]agent.Task]
	logs  *versioned[[]agent.LogSubscription]
	nets  *versioned[netview.NodeView] // never set when ds delivers no network views
}

func newServerSession(ds dispatcherSession) *serverSession {
	return &serverSession{ds: ds, tasks: newVersioned[[]agent.Task](), logs: newVersioned[[]agent.LogSubscription](),
		nets: newVersioned[netview.NodeView]()}
}

func (ss *serverSession) pump() {
	var nets <-chan netview.NodeView // nil (never ready) when the session has no network views
	if ns, ok := ss.ds.(agent.NetworkSession); ok {
		nets = ns.Networks()
	}
	for {
		select {
		case tasks := <-ss.ds.Assignments():
			ss.tasks.set(tasks)
		case subs := <-ss.ds.LogSubscriptions():
			ss.logs.set(subs)
		case v, ok := <-nets:
			if !ok {
				nets = nil
				continue
			}
			ss.nets.set(v)
		case <-ss.ds.Done():
			return
		}
	}
}

// versioned is the latest of a series of values, numbered from 1, for long polls.
type versioned[T any] struct {
	mu      sync.Mutex
	version uint64
	val     T
	changed chan struct{} // closed and replaced on each new value
}

func newVersioned[T any]() *versioned[T] { return &versioned[T]{changed: make(chan struct{})} }

func (v *versioned[T]) set(val T) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.version++
	v.val = val
	close(v.changed)
	v.changed = make(chan struct{})
}

func (v *versioned[T]) current() (uint64, T, <-chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.version, v.val, v.changed
}

// poll waits up to longPoll for a value newer than after. It returns the version and value then
// (after and the zero value when the time is up) and closed when the session has ended.
func poll[T any](d *dispatcherService, id string, ss *serverSession, v *versioned[T], after uint64) (version uint64, val T, closed bool, err error) {
	timer := time.NewTimer(longPoll)
	defer timer.Stop()
	for {
		ver, cur, changed := v.current()
		if ver > after {
			return ver, cur, false, nil
		}
		select {
		case <-changed:
		case <-ss.ds.Done():
			d.end(id)
			return after, val, true, nil
		case <-timer.C:
			return after, val, false, nil
		case <-d.ctx.Done():
			return after, val, false, d.ctx.Err()
		}
	}
}

// Open is Dispatcher.Open: the session is for the node the certificate names.
func (d *dispatcherService) Open(req OpenRequest, reply *OpenReply) error {
	st := d.s.state()
	leader, err := st.redirect()
	if err != nil || leader != "" {
		reply.Leader = leader
		return err
	}
	if st.disp == nil {
		return errNotServed("agent sessions")
	}
	host, _, _ := net.SplitHostPort(d.peer.Addr)
	ctx, cancel := context.WithTimeout(d.ctx, callTimeout)
	defer cancel()
	ds, err := st.disp.Open(ctx, d.peer.NodeID, host, req.Description)
	if err != nil {
		return toStatus(err)
	}
	b := make([]byte, 12)
	rand.Read(b)
	id := hex.EncodeToString(b)
	ss := newServerSession(ds)
	d.mu.Lock()
	if d.sessions == nil { // the connection ended meanwhile
		d.mu.Unlock()
		ds.Close()
		return errNotServed("this connection")
	}
	d.sessions[id] = ss
	d.mu.Unlock()
	go ss.pump()
	reply.Session = id
	return nil
}

var errNoSession = &StatusError{Code: CodeNotFound, Desc: "session not found"}

// session finds an open session; a session of a manager that no longer leads is ended.
func (d *dispatcherService) session(id string, needLeader bool) (*serverSession, error) {
	d.mu.Lock()
	ss := d.sessions[id]
	d.mu.Unlock()
	if ss == nil {
		return nil, errNoSession
	}
	if needLeader {
		if l := d.s.state().leader; l != nil && !l.IsLeader() {
			d.end(id)
			return nil, errNotLeader
		}
	}
	return ss, nil
}

func (d *dispatcherService) end(id string) {
	d.mu.Lock()
	ss := d.sessions[id]
	delete(d.sessions, id)
	d.mu.Unlock()
	if ss != nil {
		ss.ds.Close()
	}
}

func (d *dispatcherService) closeAll() {
	d.mu.Lock()
	sessions := d.sessions
	d.sessions = nil
	d.mu.Unlock()
	for _, ss := range sessions {
		ss.ds.Close()
	}
}

// Assignments is Dispatcher.Assignments, a long poll for a task set newer than req.After.
func (d *dispatcherService) Assignments(req AssignmentsRequest, reply *AssignmentsReply) error {
	ss, err := d.session(req.Session, false)
	if err != nil {
		return err
	}
	reply.Version, reply.Tasks, reply.Closed, err = poll(d, req.Session, ss, ss.tasks, req.After)
	return err
}

// LogSubscriptions is Dispatcher.LogSubscriptions, a long poll for a set of log subscriptions newer
// than req.After.
func (d *dispatcherService) LogSubscriptions(req LogSubscriptionsRequest, reply *LogSubscriptionsReply) error {
	ss, err := d.session(req.Session, false)
	if err != nil {
		return err
	}
	reply.Version, reply.Subscriptions, reply.Closed, err = poll(d, req.Session, ss, ss.logs, req.After)
	return err
}

// Networks is Dispatcher.Networks, a long poll for a view of the node's overlay networks newer
// than req.After. A session of a manager that computes no views never answers a new one.
func (d *dispatcherService) Networks(req NetworksRequest, reply *NetworksReply) error {
	ss, err := d.session(req.Session, false)
	if err != nil {
		return err
	}
	reply.Version, reply.View, reply.Closed, err = poll(d, req.Session, ss, ss.nets, req.After)
	return err
}

// PublishLogs is Dispatcher.PublishLogs: one batch of a log subscription of this session. It
// answers once the manager's reader has taken the batch.
func (d *dispatcherService) PublishLogs(req PublishLogsRequest, reply *Empty) error {
	ss, err := d.session(req.Session, false)
	if err != nil {
		return err
	}
	return toStatus(ss.ds.PublishLogs(d.ctx, req.Batch))
}

// UpdateStatus is Dispatcher.UpdateStatus.
func (d *dispatcherService) UpdateStatus(req StatusRequest, reply *Empty) error {
	ss, err := d.session(req.Session, true)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(d.ctx, callTimeout)
	defer cancel()
	return toStatus(ss.ds.UpdateStatus(ctx, req.Updates))
}

// Dependencies is Dispatcher.Dependencies: the secrets and configs of the node's tasks.
func (d *dispatcherService) Dependencies(req DependenciesRequest, reply *DependenciesReply) error {
	ss, err := d.session(req.Session, true)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(d.ctx, callTimeout)
	defer cancel()
	reply.Secrets, reply.Configs, err = ss.ds.Dependencies(ctx, req.SecretIDs, req.ConfigIDs)
	return toStatus(err)
}

// RegistryAuth is Dispatcher.RegistryAuth: the registry auth of a service the node runs.
func (d *dispatcherService) RegistryAuth(req RegistryAuthRequest, reply *RegistryAuthReply) error {
	ss, err := d.session(req.Session, true)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(d.ctx, callTimeout)
	defer cancel()
	reply.Auth, err = ss.ds.RegistryAuth(ctx, req.ServiceID)
	return toStatus(err)
}

// Heartbeat is Dispatcher.Heartbeat.
func (d *dispatcherService) Heartbeat(req SessionRequest, reply *HeartbeatReply) error {
	ss, err := d.session(req.Session, true)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(d.ctx, callTimeout)
	defer cancel()
	p, err := ss.ds.Heartbeat(ctx)
	if err != nil {
		return toStatus(err)
	}
	reply.Period = p
	return nil
}

// Close is Dispatcher.Close.
func (d *dispatcherService) Close(req SessionRequest, reply *Empty) error {
	d.end(req.Session)
	return nil
}
