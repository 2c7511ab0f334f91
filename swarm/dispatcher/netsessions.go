package dispatcher

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/netview"
	"github.com/shoal-project/shoal/swarm/store"
	"github.com/shoal-project/shoal/swarm/taskstate"
)

// netDebounce is how long the network views wait after a change for more changes before they are
// recomputed: a burst (a service scaled, a node's tasks moved) costs one recomputation.
const netDebounce = 50 * time.Millisecond

// netFeed recomputes the network views of the open sessions when the store changes. It runs while
// any session is open: one store watch and one recomputation per burst of changes, shared by all
// sessions (the cluster-wide part of the views is computed once per recomputation).
type netFeed struct {
	computeMu sync.Mutex // one recomputation at a time: a later one reads a newer snapshot
	debounce  time.Duration

	// guarded by Dispatcher.mu
	stop func() // ends the running feed; nil when none runs
}

// startNetFeed starts the feed if none runs; d.mu is held.
func (d *Dispatcher) startNetFeed() {
	if d.net.stop != nil {
		return
	}
	events, cancelWatch := d.st.Watch()
	ctx, cancel := context.WithCancel(context.Background())
	d.net.stop = cancel
	go d.followNetworks(ctx, events, cancelWatch)
}

// stopNetFeed stops the feed once no session is left; d.mu is held.
func (d *Dispatcher) stopNetFeed() {
	if len(d.sessions) == 0 && d.net.stop != nil {
		d.net.stop()
		d.net.stop = nil
	}
}

// followNetworks recomputes the views once at start (the watch began after the sessions' first
// views) and after every burst of changes that can touch a view: the first relevant change opens a
// window of netDebounce in which further changes are gathered.
func (d *Dispatcher) followNetworks(ctx context.Context, events <-chan store.Event, cancelWatch func()) {
	defer cancelWatch()
	debounce := d.net.debounce
	if debounce <= 0 {
		debounce = netDebounce
	}
	for first := true; ; first = false {
		if !first {
			relevant := false
			for !relevant {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-events:
					if !ok {
						return
					}
					relevant = netRelevant(ev)
				}
			}
		}
		timer := time.NewTimer(debounce)
	gather:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case _, ok := <-events:
				if !ok {
					timer.Stop()
					return
				}
			case <-timer.C:
				break gather
			}
		}
		d.pushNetworks(d.openSessions())
	}
}

// openSessions lists the open sessions.
func (d *Dispatcher) openSessions() []*Session {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*Session
	for _, list := range d.sessions {
		out = append(out, list...)
	}
	return out
}

// pushNetworks computes the views of the sessions' nodes from one snapshot and sends each session
// its view if it differs from the last one it was sent.
func (d *Dispatcher) pushNetworks(sessions []*Session) {
	if len(sessions) == 0 {
		return
	}
	d.net.computeMu.Lock()
	defer d.net.computeMu.Unlock()
	d.st.View(func(tx store.ReadTx) {
		c := newClusterNets(tx)
		views := map[string]netview.NodeView{}
		for _, s := range sessions {
			v, ok := views[s.nodeID]
			if !ok {
				v = c.nodeView(tx, s.nodeID)
				views[s.nodeID] = v
			}
			s.sendNetworks(v)
		}
	})
}

// netRelevant reports whether a change can touch a network view. Most task changes are status
// reports that move a task between states that look the same to the views (preparing, starting).
func netRelevant(ev store.Event) bool {
	switch o := ev.Object.(type) {
	case *store.Task:
		old, _ := ev.Old.(*store.Task)
		if ev.Action == store.Delete {
			return netKey(o) != ""
		}
		return netKey(o) != netKey(old)
	case *store.Node:
		old, _ := ev.Old.(*store.Node)
		return ev.Action != store.Update || old == nil || old.Status.Addr != o.Status.Addr || old.IngressAddr != o.IngressAddr
	case *store.Service, *store.Network:
		return true
	}
	return false
}

// netKey sums up what the views see of a task: "" when it is in none (not placed, or not between
// assigned and running).
func netKey(t *store.Task) string {
	if t == nil || t.NodeID == "" || taskstate.Before(t.Status.State, swarm.TaskStateAssigned) || taskstate.Terminal(t.Status.State) {
		return ""
	}
	var b strings.Builder
	b.WriteString(t.NodeID)
	if taskstate.AtMost(t.DesiredState, swarm.TaskStateRunning) {
		b.WriteString("|wanted")
	}
	if t.Status.State == swarm.TaskStateRunning {
		b.WriteString("|running")
	}
	for _, a := range t.NetworksAttachments {
		b.WriteString("|" + a.Network.ID + "=" + strings.Join(a.Addresses, ","))
	}
	return b.String()
}

// sendNetworks delivers v unless it is the view last sent, replacing an unread older one.
func (s *Session) sendNetworks(v netview.NodeView) {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	if s.netSent && reflect.DeepEqual(s.netLast, v) {
		return
	}
	s.netSent, s.netLast = true, v
	select {
	case <-s.netOut:
	default:
	}
	s.netOut <- v
}

// Networks implements agent.NetworkSession: the node's view of the overlay networks its tasks use,
// at session start and whenever it changes; an unread view is replaced by a newer one.
func (s *Session) Networks() <-chan netview.NodeView { return s.netOut }
