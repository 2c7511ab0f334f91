package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/store"
)

// ErrLogSubscriptionGone answers a batch published for a subscription that is over: its reader went
// away, or it ended or belongs to another session.
var ErrLogSubscriptionGone = errors.New("log subscription is over")

// logAnswerTimeout bounds the wait for a node's first answer to a log subscription.
const logAnswerTimeout = 15 * time.Second

// nodeUnavailable is swarmkit's reason for logs a node could not send.
func nodeUnavailable(nodeID string) error {
	return errdefs.Unavailable(fmt.Errorf("node %s is not available", nodeID))
}

// logSubscription is one open request for a task's log, held by the session it was sent over.
type logSubscription struct {
	sub     agent.LogSubscription
	batches chan agent.LogBatch // unbuffered: a publisher waits until the reader takes its batch
	done    chan struct{}       // closed when the subscription is removed
}

// TaskLogs reads the log of task t from the node that runs it (control.TaskLogSource): it opens a
// log subscription on the node's newest session, waits for the node's first answer, and then
// streams the batches the node publishes. errdefs.Unavailable when the node has no session here
// (or it does not answer); errdefs.NotFound when the node has no container for t. A session that
// ends mid-stream ends the channel with an Unavailable error message. The channel closes at the end
// of the log or when ctx ends, and the subscription is withdrawn then.
func (d *Dispatcher) TaskLogs(ctx context.Context, t swarm.Task, opts container.LogsOptions) (<-chan *backend.LogMessage, error) {
	s := d.newestSession(t.NodeID)
	if s == nil {
		return nil, nodeUnavailable(t.NodeID)
	}
	ls := &logSubscription{sub: agent.LogSubscription{ID: store.NewID(), Task: t, Options: opts},
		batches: make(chan agent.LogBatch), done: make(chan struct{})}
	if !s.addLogSubscription(ls) {
		return nil, nodeUnavailable(t.NodeID)
	}
	timer := time.NewTimer(logAnswerTimeout)
	defer timer.Stop()
	var first agent.LogBatch
	select {
	case first = <-ls.batches:
	case <-s.done:
		s.removeLogSubscription(ls)
		return nil, nodeUnavailable(t.NodeID)
	case <-ctx.Done():
		s.removeLogSubscription(ls)
		return nil, ctx.Err()
	case <-timer.C:
		s.removeLogSubscription(ls)
		return nil, nodeUnavailable(t.NodeID)
	}
	switch {
	case first.Missing:
		s.removeLogSubscription(ls)
		return nil, errdefs.NotFound(fmt.Errorf("task %s has no container on node %s", t.ID, t.NodeID))
	case first.Err != "" && len(first.Messages) == 0:
		s.removeLogSubscription(ls)
		return nil, errdefs.System(errors.New(first.Err))
	}
	out := make(chan *backend.LogMessage, 64)
	go s.forwardLogs(ctx, ls, first, out)
	return out, nil
}

// newestSession is the node's most recently opened session that is still open, or nil.
func (d *Dispatcher) newestSession(nodeID string) *Session {
	d.mu.Lock()
	defer d.mu.Unlock()
	list := d.sessions[nodeID]
	if len(list) == 0 {
		return nil
	}
	return list[len(list)-1]
}

func (d *Dispatcher) addSession(s *Session) {
	d.mu.Lock()
	d.sessions[s.nodeID] = append(d.sessions[s.nodeID], s)
	d.startNetFeed()
	d.mu.Unlock()
}

func (d *Dispatcher) removeSession(s *Session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	list := d.sessions[s.nodeID]
	for i, o := range list {
		if o == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(d.sessions, s.nodeID)
	} else {
		d.sessions[s.nodeID] = list
	}
	d.stopNetFeed()
}

// forwardLogs copies the batches of ls to out, starting with b, until the node closes the stream,
// the session ends or ctx ends; then it withdraws the subscription and closes out.
func (s *Session) forwardLogs(ctx context.Context, ls *logSubscription, b agent.LogBatch, out chan<- *backend.LogMessage) {
	defer close(out)
	defer s.removeLogSubscription(ls)
	send := func(m *backend.LogMessage) bool {
		select {
		case out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		for _, m := range b.Messages {
			if !send(&backend.LogMessage{Line: m.Line, Source: m.Source, Timestamp: m.Timestamp, Attrs: m.Attrs}) {
				return
			}
		}
		if b.Close {
			if b.Err != "" {
				send(&backend.LogMessage{Err: errors.New(b.Err)})
			}
			return
		}
		select {
		case b = <-ls.batches:
		case <-s.done:
			send(&backend.LogMessage{Err: nodeUnavailable(s.nodeID)})
			return
		case <-ctx.Done():
			return
		}
	}
}

// LogSubscriptions implements agent.LogSession.
func (s *Session) LogSubscriptions() <-chan []agent.LogSubscription { return s.logOut }

// PublishLogs implements agent.LogSession: the batch goes to the reader of its subscription, which
// must be one of this session's.
func (s *Session) PublishLogs(ctx context.Context, b agent.LogBatch) error {
	s.logMu.Lock()
	ls := s.logSubs[b.Subscription]
	s.logMu.Unlock()
	if ls == nil {
		return ErrLogSubscriptionGone
	}
	select {
	case ls.batches <- b:
		return nil
	case <-ls.done:
		return ErrLogSubscriptionGone
	case <-s.done:
		return ErrLogSubscriptionGone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// addLogSubscription adds ls to the session's set; false when the session has ended.
func (s *Session) addLogSubscription(ls *logSubscription) bool {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.logClosed {
		return false
	}
	s.logSubs[ls.sub.ID] = ls
	s.sendLogSubscriptions()
	return true
}

// removeLogSubscription withdraws ls: publishers of its batches are refused from now on.
func (s *Session) removeLogSubscription(ls *logSubscription) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.logSubs[ls.sub.ID] != ls {
		return
	}
	delete(s.logSubs, ls.sub.ID)
	close(ls.done)
	if !s.logClosed {
		s.sendLogSubscriptions()
	}
}

// sendLogSubscriptions delivers the current set, replacing an unread older one; logMu is held.
func (s *Session) sendLogSubscriptions() {
	set := make([]agent.LogSubscription, 0, len(s.logSubs))
	for _, ls := range s.logSubs {
		set = append(set, ls.sub)
	}
	sort.Slice(set, func(i, j int) bool { return set[i].ID < set[j].ID })
	select {
	case <-s.logOut:
	default:
	}
	s.logOut <- set
}

var (
	_ agent.Session        = (*Session)(nil)
	_ agent.LogSession     = (*Session)(nil)
	_ agent.NetworkSession = (*Session)(nil)
)
