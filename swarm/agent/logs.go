package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"
)

// LogReader is implemented by executors that can read their tasks' container logs.
type LogReader interface {
	// TaskLogs streams the log of t's container on this node as container logs do (stdout and/or
	// stderr, follow, since, tail). It returns an errdefs.NotFound error when this node has no
	// container for t. The channel closes at the end of the log (with Follow, once the container
	// has stopped) or when ctx ends.
	TaskLogs(ctx context.Context, t swarm.Task, opts container.LogsOptions) (<-chan *backend.LogMessage, error)
}

// LogSubscription is a manager asking this node for the log of one of its tasks' containers.
type LogSubscription struct {
	ID      string
	Task    swarm.Task
	Options container.LogsOptions
}

// LogMessage is one log entry on its way to a manager.
type LogMessage struct {
	Timestamp time.Time
	Source    string // "stdout" or "stderr"
	Line      []byte
	Attrs     []backend.LogAttr `json:",omitempty"`
}

// LogBatch is what a node publishes for a subscription, in order. The first batch tells that
// reading has started (it may hold no message). Close ends the stream: Missing says the node has no
// container for the task, Err that reading failed.
type LogBatch struct {
	Subscription string
	Messages     []LogMessage `json:",omitempty"`
	Close        bool         `json:",omitempty"`
	Missing      bool         `json:",omitempty"`
	Err          string       `json:",omitempty"`
}

// LogSession is implemented by sessions that carry log subscriptions (both of shoal's sessions do).
type LogSession interface {
	// LogSubscriptions delivers the whole set of the log subscriptions open for this node whenever
	// it changes. A subscription that leaves the set is over: its reading stops.
	LogSubscriptions() <-chan []LogSubscription
	// PublishLogs sends one batch of a subscription; it returns once the manager has taken it (a
	// slow reader on the manager slows the node down). An error ends the subscription here.
	PublishLogs(ctx context.Context, b LogBatch) error
}

// Batch limits: a batch is sent as soon as the reader has nothing more at hand, or when it holds
// this many messages or bytes.
const (
	maxBatchMessages = 256
	maxBatchBytes    = 256 << 10
)

// logPublisher serves the log subscriptions of one session: one reader per subscription, its
// messages published in batches until the log ends or the subscription leaves the set.
type logPublisher struct {
	reader LogReader // nil: this node's executor reads no logs
	sess   LogSession
	log    *slog.Logger

	running map[string]context.CancelFunc // subscriptions in the current set, by ID
	wg      sync.WaitGroup
}

func newLogPublisher(reader LogReader, sess LogSession, log *slog.Logger) *logPublisher {
	return &logPublisher{reader: reader, sess: sess, log: log, running: map[string]context.CancelFunc{}}
}

// run follows the subscription sets until ctx ends, then stops every reader and waits for them.
func (p *logPublisher) run(ctx context.Context) {
	defer p.wg.Wait()
	defer p.update(ctx, nil)
	for {
		select {
		case subs, ok := <-p.sess.LogSubscriptions():
			if !ok {
				return
			}
			p.update(ctx, subs)
		case <-ctx.Done():
			return
		}
	}
}

// update starts the subscriptions new in subs and stops those that left it. A subscription that
// ended on its own stays known while it is in the set, so that it is not served twice.
func (p *logPublisher) update(ctx context.Context, subs []LogSubscription) {
	want := map[string]bool{}
	for _, s := range subs {
		want[s.ID] = true
		if _, ok := p.running[s.ID]; ok {
			continue
		}
		sctx, cancel := context.WithCancel(ctx)
		p.running[s.ID] = cancel
		p.wg.Add(1)
		go func(s LogSubscription) {
			defer p.wg.Done()
			defer cancel() // the reader stops with the stream
			p.stream(sctx, s)
		}(s)
	}
	for id, cancel := range p.running {
		if !want[id] {
			cancel()
			delete(p.running, id)
		}
	}
}

// stream reads one subscription's log and publishes it.
func (p *logPublisher) stream(ctx context.Context, s LogSubscription) {
	end := LogBatch{Subscription: s.ID, Close: true}
	if p.reader == nil {
		end.Err = "logs are not available on this node"
		p.publish(ctx, end)
		return
	}
	msgs, err := p.reader.TaskLogs(ctx, s.Task, s.Options)
	if err != nil {
		if errdefs.IsNotFound(err) {
			end.Missing = true
		} else {
			end.Err = err.Error()
		}
		p.publish(ctx, end)
		return
	}
	if !p.publish(ctx, LogBatch{Subscription: s.ID}) {
		return
	}
	for {
		b, open := nextBatch(ctx, msgs)
		if ctx.Err() != nil {
			return // the subscription left the set: nobody reads any more
		}
		b.Subscription = s.ID
		b.Close = !open || b.Err != ""
		if !p.publish(ctx, b) || b.Close {
			return
		}
	}
}

// nextBatch waits for a message and takes what else the reader has at hand, within the batch
// limits. open is false once the reader's channel has closed; a message with an error ends the
// batch with its text in Err.
func nextBatch(ctx context.Context, msgs <-chan *backend.LogMessage) (b LogBatch, open bool) {
	size := 0
	add := func(m *backend.LogMessage) {
		if m == nil {
			return
		}
		if m.Err != nil {
			b.Err = m.Err.Error()
			return
		}
		b.Messages = append(b.Messages, LogMessage{Timestamp: m.Timestamp, Source: m.Source, Line: m.Line, Attrs: m.Attrs})
		size += len(m.Line)
	}
	select {
	case m, ok := <-msgs:
		if !ok {
			return b, false
		}
		add(m)
	case <-ctx.Done():
		return b, true
	}
	for b.Err == "" && len(b.Messages) < maxBatchMessages && size < maxBatchBytes {
		select {
		case m, ok := <-msgs:
			if !ok {
				return b, false
			}
			add(m)
		default:
			return b, true
		}
	}
	return b, true
}

// publish sends one batch; false when the subscription is over (cancelled, or refused by the
// manager).
func (p *logPublisher) publish(ctx context.Context, b LogBatch) bool {
	if err := p.sess.PublishLogs(ctx, b); err != nil {
		if ctx.Err() == nil {
			p.log.Debug("agent: log subscription ended", "subscription", b.Subscription, "err", err)
		}
		return false
	}
	return true
}
