package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

// retryAfter is how long a service waits after a write that failed for a reason other than a
// version conflict (lost leadership, no quorum).
const retryAfter = time.Second

// Orchestrator is the shell around Reconcile: it watches the store, reconciles the services that
// events touch (or whose wake-up time came), and writes each service's decisions atomically.
type Orchestrator struct {
	store *store.Store
	opts  options
	obs   Observed
	wake  map[string]time.Time
}

// New makes an orchestrator for the store. Run starts it.
func New(s *store.Store, opts ...Option) *Orchestrator {
	return &Orchestrator{
		store: s,
		opts:  buildOptions(opts),
		obs:   Observed{RunningAt: map[string]time.Time{}, Restarts: map[SlotKey][]RestartRecord{}},
		wake:  map[string]time.Time{},
	}
}

// Run reconciles until ctx ends; it returns nil then, or an error if the store's watch ends.
// Run must be called once, on the leader.
func (o *Orchestrator) Run(ctx context.Context) error {
	dirty := map[string]bool{}
	events, cancel := o.store.ViewAndWatch(func(tx store.ReadTx) {
		tasks := tx.ListTasks()
		byService := map[string][]*store.Task{}
		for _, t := range tasks {
			if t.ServiceID != "" {
				dirty[t.ServiceID] = true
				byService[t.ServiceID] = append(byService[t.ServiceID], t)
			}
			if t.Status.State == swarm.TaskStateRunning {
				o.obs.RunningAt[t.ID] = t.Status.Timestamp
			}
		}
		for _, s := range tx.ListServices() {
			dirty[s.ID] = true
			for k, h := range SeedRestarts(s, byService[s.ID]) {
				o.obs.Restarts[k] = h
			}
		}
	})
	defer cancel()

	for {
		o.pass(ctx, dirty)
		var timer <-chan time.Time
		if len(dirty) > 0 {
			// A write conflicted: go again at once, on a fresh snapshot.
			now := make(chan time.Time, 1)
			now <- o.opts.clock.Now()
			timer = now
		} else if next := o.nextWake(); !next.IsZero() {
			timer = o.opts.clock.After(next.Sub(o.opts.clock.Now()))
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return errors.New("orchestrator: store watch ended")
			}
			o.note(ev, dirty)
			for more := true; more; {
				select {
				case ev, ok := <-events:
					if !ok {
						return errors.New("orchestrator: store watch ended")
					}
					o.note(ev, dirty)
				default:
					more = false
				}
			}
		case <-timer:
			now := o.opts.clock.Now()
			for id, at := range o.wake {
				if !at.After(now) {
					dirty[id] = true
					delete(o.wake, id)
				}
			}
		}
	}
}

func (o *Orchestrator) nextWake() time.Time {
	var next time.Time
	for _, at := range o.wake {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// note records what an event tells: which services to reconcile, and task facts the store does not
// keep (when a task was first seen running).
func (o *Orchestrator) note(ev store.Event, dirty map[string]bool) {
	switch obj := ev.Object.(type) {
	case *store.Service:
		dirty[obj.ID] = true
		if ev.Action == store.Delete {
			for k := range o.obs.Restarts {
				if k.ServiceID == obj.ID {
					delete(o.obs.Restarts, k)
				}
			}
		}
	case *store.Task:
		if obj.ServiceID != "" {
			dirty[obj.ServiceID] = true
		}
		switch {
		case ev.Action == store.Delete:
			delete(o.obs.RunningAt, obj.ID)
		case obj.Status.State == swarm.TaskStateRunning:
			if old, ok := ev.Old.(*store.Task); !ok || old.Status.State != swarm.TaskStateRunning {
				o.obs.RunningAt[obj.ID] = obj.Status.Timestamp
			}
		}
	case *store.Node:
		old, _ := ev.Old.(*store.Node)
		if old == nil || ev.Action == store.Delete || nodeChanged(old, obj) {
			o.store.View(func(tx store.ReadTx) {
				for _, s := range tx.ListServices() {
					dirty[s.ID] = true
				}
			})
		}
	}
}

// nodeChanged reports whether a node changed in a way the orchestrator cares about.
func nodeChanged(a, b *store.Node) bool {
	return a.Status.State != b.Status.State || !sameJSON(a.Spec, b.Spec) || !sameJSON(a.Description, b.Description)
}

// pass reconciles the dirty services and writes their decisions; services whose write conflicted
// stay dirty.
func (o *Orchestrator) pass(ctx context.Context, dirty map[string]bool) {
	if len(dirty) == 0 {
		return
	}
	ids := make([]string, 0, len(dirty))
	for id := range dirty {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	now := o.opts.clock.Now()
	outs := make(map[string]Output, len(ids))
	o.store.View(func(tx store.ReadTx) {
		nodes := tx.ListNodes()
		for _, id := range ids {
			in := Input{Service: tx.GetService(id), Tasks: tx.TasksByService(id), Nodes: nodes, Observed: o.obs, Now: now}
			if in.Service == nil && len(in.Tasks) == 0 {
				continue
			}
			outs[id] = Reconcile(in)
		}
	})
	for _, id := range ids {
		delete(dirty, id)
		delete(o.wake, id)
	}
	var failed, stale []string
	err := o.store.Batch(ctx, func(b *store.Batch) error {
		for _, id := range ids {
			out, ok := outs[id]
			if !ok || out.Empty() {
				continue
			}
			if err := b.Update(func(tx store.Tx) error { return apply(tx, out) }); err != nil {
				failed = append(failed, id)
				if errors.Is(err, store.ErrSequenceConflict) || errors.Is(err, store.ErrNotExist) {
					stale = append(stale, id)
				} else {
					o.opts.log.Warn("orchestrator: write failed", "service", id, "err", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		o.opts.log.Warn("orchestrator: batch failed", "err", err)
		for _, id := range ids {
			o.wake[id] = now.Add(retryAfter)
		}
		return
	}
	for _, id := range failed {
		if slicesContain(stale, id) {
			dirty[id] = true // the snapshot was stale: reconcile again on a fresh one
		} else {
			o.wake[id] = now.Add(retryAfter)
		}
	}
	for _, id := range ids {
		out := outs[id]
		if slicesContain(failed, id) {
			continue
		}
		for _, r := range out.Restarts {
			o.obs.Restarts[r.Key] = append(o.obs.Restarts[r.Key], r.Record)
		}
		if !out.WakeAt.IsZero() {
			o.wake[id] = out.WakeAt
		}
	}
}

// apply writes one service's decisions in a transaction.
func apply(tx store.Tx, out Output) error {
	if out.Service != nil {
		if err := tx.Update(out.Service); err != nil {
			return fmt.Errorf("service %s: %w", out.Service.ID, err)
		}
	}
	for _, t := range out.Update {
		if err := tx.Update(t); err != nil {
			return fmt.Errorf("task %s: %w", t.ID, err)
		}
	}
	for _, t := range out.Create {
		if err := tx.Create(t); err != nil {
			return fmt.Errorf("task %s: %w", t.ID, err)
		}
	}
	return nil
}

func slicesContain(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
