package store

import (
	"context"
	"fmt"
	"sync"
)

// Event tells a watcher about one committed change.
type Event struct {
	Action Action
	// Object is the object as written (for a delete, as it was). It is shared and read-only.
	Object Object
	// Old is the object before the change (nil for a create).
	Old Object
}

// Watch returns a channel of every change committed from now on, in commit order, and a function
// that ends the watch and closes the channel. Events queue without bound, so a slow watcher never
// holds up Apply; a watcher must keep reading or cancel.
func (s *Store) Watch() (<-chan Event, func()) {
	w := &watcher{out: make(chan Event, 64), wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.watch.add(w)
	go w.pump()
	var once sync.Once
	return w.out, func() {
		once.Do(func() {
			s.watch.remove(w)
			close(w.done)
		})
	}
}

// ViewAndWatch runs fn on a snapshot and starts a watch that sees exactly the changes after it.
func (s *Store) ViewAndWatch(fn func(tx ReadTx)) (<-chan Event, func()) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.View(fn)
	return s.Watch()
}

type watchers struct {
	mu   sync.Mutex
	list map[*watcher]struct{}
}

func (ws *watchers) add(w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.list == nil {
		ws.list = map[*watcher]struct{}{}
	}
	ws.list[w] = struct{}{}
}

func (ws *watchers) remove(w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.list, w)
}

func (ws *watchers) publish(events []Event) {
	if len(events) == 0 {
		return
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.list {
		w.push(events)
	}
}

type watcher struct {
	mu    sync.Mutex
	queue []Event
	out   chan Event
	wake  chan struct{}
	done  chan struct{}
}

func (w *watcher) push(events []Event) {
	w.mu.Lock()
	w.queue = append(w.queue, events...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) pump() {
	defer close(w.out)
	for {
		w.mu.Lock()
		q := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, ev := range q {
			select {
			case w.out <- ev:
			case <-w.done:
				return
			}
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-w.wake:
		case <-w.done:
			return
		}
	}
}

// Follow is the event shell of a control loop: it runs pass once, then again after every burst of
// changes (the events waiting at that moment) in which note found one worth a pass. note sees every
// event, so that it can gather what the burst touched. Follow returns nil when ctx ends, and an error
// naming the loop if the store's watch ends.
func (s *Store) Follow(ctx context.Context, loop string, note func(Event) bool, pass func(context.Context)) error {
	events, cancel := s.Watch()
	defer cancel()
	need := true
	for {
		if need {
			pass(ctx)
		}
		need = false
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			for more := true; more; {
				if !ok {
					return fmt.Errorf("%s: store watch ended", loop)
				}
				if note(ev) {
					need = true
				}
				select {
				case ev, ok = <-events:
				default:
					more = false
				}
			}
		}
	}
}
