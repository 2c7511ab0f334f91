package transport

import (
	"context"
	"errors"
	"net/rpc"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/netview"
)

// heartbeatTimeout bounds a heartbeat: a manager that does not answer in time is taken as gone
// and the session ends.
const heartbeatTimeout = 10 * time.Second

// clientSession is an agent session over one shoal-rpc connection; it implements agent.Session,
// agent.LogSession, agent.DependencySession and agent.NetworkSession.
type clientSession struct {
	rc     *rpc.Client
	id     string
	ctx    context.Context
	cancel context.CancelFunc
	out    chan []agent.Task
	logs   chan []agent.LogSubscription
	nets   chan netview.NodeView
	done   chan struct{}
	once   sync.Once
	ended  atomic.Bool // the manager ended the session (a poll answered Closed)
}

var (
	_ agent.Session           = (*clientSession)(nil)
	_ agent.LogSession        = (*clientSession)(nil)
	_ agent.DependencySession = (*clientSession)(nil)
	_ agent.NetworkSession    = (*clientSession)(nil)
)

func newClientSession(rc *rpc.Client, id string) *clientSession {
	ctx, cancel := context.WithCancel(context.Background())
	s := &clientSession{rc: rc, id: id, ctx: ctx, cancel: cancel, out: make(chan []agent.Task, 1),
		logs: make(chan []agent.LogSubscription, 1), nets: make(chan netview.NodeView, 1), done: make(chan struct{})}
	go s.poll()
	go s.pollLogs()
	go s.pollNetworks()
	return s
}

// poll long-polls the task set and delivers each new one; the session ends with the poll.
func (s *clientSession) poll() {
	pollLoop(s, "Dispatcher.Assignments", true, s.out,
		func(after uint64) any { return AssignmentsRequest{Session: s.id, After: after} },
		func(r *AssignmentsReply) (uint64, []agent.Task, bool) {
			if r.Tasks == nil {
				r.Tasks = []agent.Task{}
			}
			return r.Version, r.Tasks, r.Closed
		})
}

// pollLogs long-polls the set of log subscriptions and delivers each new one. A failed poll ends
// the session when the error says it is gone; otherwise only the log subscriptions stop.
func (s *clientSession) pollLogs() {
	pollLoop(s, "Dispatcher.LogSubscriptions", false, s.logs,
		func(after uint64) any { return LogSubscriptionsRequest{Session: s.id, After: after} },
		func(r *LogSubscriptionsReply) (uint64, []agent.LogSubscription, bool) {
			if r.Subscriptions == nil {
				r.Subscriptions = []agent.LogSubscription{}
			}
			return r.Version, r.Subscriptions, r.Closed
		})
}

// pollNetworks long-polls the node's view of its overlay networks and delivers each new one.
// Errors are handled as pollLogs does: a manager that serves no Dispatcher.Networks (an older one)
// stops only this poll, and one that computes no views never answers a new one.
func (s *clientSession) pollNetworks() {
	pollLoop(s, "Dispatcher.Networks", false, s.nets,
		func(after uint64) any { return NetworksRequest{Session: s.id, After: after} },
		func(r *NetworksReply) (uint64, netview.NodeView, bool) { return r.Version, r.View, r.Closed })
}

// pollLoop repeats a long poll of method until the session ends and hands each newer value to out,
// the latest replacing one not yet read. ask makes the request for the values after a version;
// read takes the version, the value and whether the session ended from a reply. A failed poll ends
// the session when endsAlways is set or the error says the session is gone; otherwise only this
// poll stops.
func pollLoop[Rep, T any](s *clientSession, method string, endsAlways bool, out chan T,
	ask func(after uint64) any, read func(*Rep) (uint64, T, bool)) {
	var after uint64
	for {
		var r Rep
		err := call(s.ctx, s.rc, method, ask(after), &r)
		if err != nil { // r is not ours to read: the answer may still be arriving
			if endsAlways || endsSession(err) {
				s.endOn(err)
			}
			return
		}
		version, val, closed := read(&r)
		if closed {
			s.ended.Store(true)
			s.Close()
			return
		}
		if version <= after {
			continue
		}
		after = version
		select {
		case <-out:
		default:
		}
		out <- val
	}
}

// Networks implements agent.NetworkSession.
func (s *clientSession) Networks() <-chan netview.NodeView { return s.nets }

// LogSubscriptions implements agent.LogSession.
func (s *clientSession) LogSubscriptions() <-chan []agent.LogSubscription { return s.logs }

// PublishLogs implements agent.LogSession.
func (s *clientSession) PublishLogs(ctx context.Context, b agent.LogBatch) error {
	return s.call(ctx, "Dispatcher.PublishLogs", PublishLogsRequest{Session: s.id, Batch: b}, &Empty{})
}

// Assignments implements agent.Session.
func (s *clientSession) Assignments() <-chan []agent.Task { return s.out }

// UpdateStatus implements agent.Session.
func (s *clientSession) UpdateStatus(ctx context.Context, updates []agent.StatusUpdate) error {
	err := s.call(ctx, "Dispatcher.UpdateStatus", StatusRequest{Session: s.id, Updates: updates}, &Empty{})
	if endsSession(err) {
		s.Close()
	}
	return err
}

// Dependencies implements agent.DependencySession.
func (s *clientSession) Dependencies(ctx context.Context, secretIDs, configIDs []string) ([]swarm.Secret, []swarm.Config, error) {
	var r DependenciesReply
	err := s.call(ctx, "Dispatcher.Dependencies", DependenciesRequest{Session: s.id, SecretIDs: secretIDs, ConfigIDs: configIDs}, &r)
	if err != nil {
		return nil, nil, err
	}
	return r.Secrets, r.Configs, nil
}

// RegistryAuth implements agent.DependencySession.
func (s *clientSession) RegistryAuth(ctx context.Context, serviceID string) (string, error) {
	var r RegistryAuthReply
	err := s.call(ctx, "Dispatcher.RegistryAuth", RegistryAuthRequest{Session: s.id, ServiceID: serviceID}, &r)
	return r.Auth, err
}

// Heartbeat implements agent.Session.
func (s *clientSession) Heartbeat(ctx context.Context) (time.Duration, error) {
	hctx, cancel := context.WithTimeout(ctx, heartbeatTimeout)
	defer cancel()
	var r HeartbeatReply
	err := s.call(hctx, "Dispatcher.Heartbeat", SessionRequest{Session: s.id}, &r)
	if endsSession(err) || (errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil) {
		s.Close()
	}
	if err != nil {
		return 0, err
	}
	return r.Period, nil
}

// errSessionEnded answers a call the connection cut short because the manager had ended the
// session meanwhile (it stopped leading, or the node was removed).
var errSessionEnded = &StatusError{Code: CodeUnavailable, Desc: "session ended by the manager"}

// call makes one call of the session. When the manager ends the session, the poll that learns it
// closes the connection and may cut short a call whose answer (the reason) was still on its way:
// that call then fails as the session does, not with the connection's error.
func (s *clientSession) call(ctx context.Context, method string, req, reply any) error {
	err := call(ctx, s.rc, method, req, reply)
	var se *StatusError
	if err != nil && !errors.As(err, &se) && ctx.Err() == nil && s.ended.Load() {
		return errSessionEnded
	}
	return err
}

// endOn ends the session after a failed poll; an answer of the manager's (not a broken
// connection) means the manager ended it.
func (s *clientSession) endOn(err error) {
	var se *StatusError
	if errors.As(err, &se) {
		s.ended.Store(true)
	}
	s.Close()
}

// Done implements agent.Session.
func (s *clientSession) Done() <-chan struct{} { return s.done }

// Close implements agent.Session: closing the connection ends the session on the manager.
func (s *clientSession) Close() {
	s.once.Do(func() {
		s.cancel()
		s.rc.Close()
		close(s.done)
	})
}
