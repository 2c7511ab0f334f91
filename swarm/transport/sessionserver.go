package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/dispatcher"
)

// dispatcherService serves the agent sessions of one connection.
type dispatcherService struct {
	s    *Server
	ctx  context.Context
	peer Peer

	mu       sync.Mutex
	sessions map[string]*serverSession
}

// serverSession is a dispatcher session and the latest task set it delivered.
type serverSession struct {
	ds      *dispatcher.Session
	mu      sync.Mutex
	version uint64
	tasks   []swarm.Task
	changed chan struct{} // closed and replaced on each new set
}

func (ss *serverSession) pump() {
	for {
		select {
		case tasks := <-ss.ds.Assignments():
			ss.mu.Lock()
			ss.version++
			ss.tasks = tasks
			close(ss.changed)
			ss.changed = make(chan struct{})
			ss.mu.Unlock()
		case <-ss.ds.Done():
			return
		}
	}
}

func (ss *serverSession) current() (uint64, []swarm.Task, <-chan struct{}) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.version, ss.tasks, ss.changed
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
	ss := &serverSession{ds: ds, changed: make(chan struct{})}
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
	timer := time.NewTimer(longPoll)
	defer timer.Stop()
	for {
		v, tasks, changed := ss.current()
		if v > req.After {
			reply.Version, reply.Tasks = v, tasks
			return nil
		}
		select {
		case <-changed:
		case <-ss.ds.Done():
			d.end(req.Session)
			reply.Closed = true
			return nil
		case <-timer.C:
			reply.Version, reply.Tasks = req.After, nil
			return nil
		case <-d.ctx.Done():
			return d.ctx.Err()
		}
	}
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
