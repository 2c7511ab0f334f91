package events

import (
	"context"
	"sync"

	"github.com/docker/docker/api/types/events"
)

// bufferSize is how many recent events a Log keeps for since/until queries, as dockerd keeps 256.
const bufferSize = 256

// Log is the node's event log; it implements routes.EventsBackend.
type Log struct {
	mu     sync.Mutex
	recent []events.Message
	subs   map[chan events.Message]struct{}
}

// New makes an empty log.
func New() *Log { return &Log{subs: map[chan events.Message]struct{}{}} }

// Publish records an event and hands it to every subscriber that has room for it.
func (l *Log) Publish(m events.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recent = append(l.recent, m)
	if len(l.recent) > bufferSize {
		l.recent = l.recent[len(l.recent)-bufferSize:]
	}
	for ch := range l.subs {
		select {
		case ch <- m:
		default: // a subscriber that does not keep up loses events rather than stalling the node
		}
	}
}

// SubscribeEvents implements routes.EventsBackend.
func (l *Log) SubscribeEvents(ctx context.Context) ([]events.Message, <-chan events.Message, error) {
	ch := make(chan events.Message, 1024)
	l.mu.Lock()
	buffered := append([]events.Message(nil), l.recent...)
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	go func() {
		<-ctx.Done()
		l.mu.Lock()
		delete(l.subs, ch)
		close(ch)
		l.mu.Unlock()
	}()
	return buffered, ch, nil
}
