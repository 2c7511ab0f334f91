package store

import "sync"

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
