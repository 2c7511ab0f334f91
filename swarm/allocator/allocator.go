package allocator

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

// Allocator is the shell around Allocate: after each burst of changes it allocates what a fresh
// snapshot lacks and writes the results in one store Batch (networks, then services, then tasks,
// then nodes).
type Allocator struct {
	store    *store.Store
	log      *slog.Logger
	now      func() time.Time
	problems map[string]bool
}

// Option configures an Allocator.
type Option func(*Allocator)

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(a *Allocator) { a.log = l } }

// WithClock sets the clock that stamps task statuses (default: time.Now).
func WithClock(now func() time.Time) Option { return func(a *Allocator) { a.now = now } }

// New makes an allocator for the store. Run starts it.
func New(s *store.Store, opts ...Option) *Allocator {
	a := &Allocator{store: s, log: slog.Default(), now: time.Now, problems: map[string]bool{}}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Run allocates until ctx ends; it returns nil then, or an error if the store's watch ends. Run must
// be called once, on the leader.
func (a *Allocator) Run(ctx context.Context) error {
	return a.store.Follow(ctx, "allocator", a.matters, a.pass)
}

// matters reports whether an event can change what needs allocating. Most task events are status
// reports of tasks allocated long ago: only a NEW task waits for the allocator, and a task that ends
// or goes matters only while something could not be allocated (its addresses may be free again).
func (a *Allocator) matters(ev store.Event) bool {
	switch o := ev.Object.(type) {
	case *store.Network, *store.Service, *store.Cluster:
		return true
	case *store.Task:
		return len(a.problems) > 0 || ev.Action != store.Delete && o.Status.State == swarm.TaskStateNew
	case *store.Node:
		// A new node, or one without an ingress address (a write of ours may have lost to another
		// write of the node), needs one; an address that changed may need checking; a removed
		// node frees its address, which matters only while something could not be allocated.
		old, _ := ev.Old.(*store.Node)
		switch {
		case ev.Action == store.Delete:
			return len(a.problems) > 0
		case ev.Action == store.Create || o.IngressAddr == "":
			return true
		default:
			return old == nil || old.IngressAddr != o.IngressAddr
		}
	}
	return false
}

// pass allocates what the snapshot lacks. A write whose object changed since the snapshot is
// dropped; the change that beat it brings another pass.
func (a *Allocator) pass(ctx context.Context) {
	var res Result
	a.store.View(func(tx store.ReadTx) {
		res = Allocate(Input{Cluster: tx.GetCluster(), Networks: tx.ListNetworks(), Services: tx.ListServices(),
			Tasks: tx.ListTasks(), Nodes: tx.ListNodes(), Now: a.now()})
	})
	seen := map[string]bool{}
	for _, p := range res.Problems {
		seen[p] = true
		if !a.problems[p] {
			a.log.Warn("allocator: cannot allocate", "problem", p)
		}
	}
	a.problems = seen
	if len(res.Networks)+len(res.Services)+len(res.Tasks)+len(res.Nodes) == 0 {
		return
	}
	write := func(b *store.Batch, o store.Object) {
		err := b.Update(func(tx store.Tx) error {
			o.GetMeta().UpdatedAt = tx.Now()
			return tx.Update(o)
		})
		if err != nil && !errors.Is(err, store.ErrSequenceConflict) && !errors.Is(err, store.ErrNotExist) {
			a.log.Warn("allocator: write failed", "id", o.GetID(), "err", err)
		}
	}
	err := a.store.Batch(ctx, func(b *store.Batch) error {
		for _, n := range res.Networks {
			write(b, n)
		}
		for _, s := range res.Services {
			write(b, s)
		}
		for _, t := range res.Tasks {
			write(b, t)
		}
		for _, n := range res.Nodes {
			write(b, n)
		}
		return nil
	})
	if err != nil {
		a.log.Warn("allocator: batch failed", "err", err)
	}
}
