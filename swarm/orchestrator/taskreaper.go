package orchestrator

import (
	"context"

	"github.com/shoal-project/shoal/swarm/store"
)

// Reaper is the shell around Reap: after each burst of task, service or cluster changes it deletes
// the tasks and services Reap names.
type Reaper struct {
	store *store.Store
	opts  options
}

// NewReaper makes a task reaper for the store. Run starts it.
func NewReaper(s *store.Store, opts ...Option) *Reaper {
	return &Reaper{store: s, opts: buildOptions(opts)}
}

// Run reaps until ctx ends; it returns nil then, or an error if the store's watch ends.
func (r *Reaper) Run(ctx context.Context) error {
	scope := reapScope{all: true}
	note := func(ev store.Event) bool {
		scope.note(ev)
		return !scope.empty()
	}
	pass := func(ctx context.Context) {
		r.pass(ctx, scope)
		scope = reapScope{}
	}
	return r.store.Follow(ctx, "task reaper", note, pass)
}

// reapScope is what a burst of events can have made deletable: the tasks of some services (a
// service's history is trimmed per slot), some tasks of no service, or everything (a new retention
// limit, or the first pass).
type reapScope struct {
	all      bool
	services map[string]bool
	loose    map[string]bool // tasks without a service
}

func (s *reapScope) empty() bool { return !s.all && len(s.services) == 0 && len(s.loose) == 0 }

func (s *reapScope) note(ev store.Event) {
	add := func(m *map[string]bool, id string) {
		if *m == nil {
			*m = map[string]bool{}
		}
		(*m)[id] = true
	}
	switch o := ev.Object.(type) {
	case *store.Cluster:
		s.all = true
	case *store.Service:
		add(&s.services, o.ID)
	case *store.Task:
		if o.ServiceID != "" {
			add(&s.services, o.ServiceID)
		} else if ev.Action != store.Delete {
			add(&s.loose, o.ID)
		}
	}
}

// input reads what Reap needs for the scope, through the task indexes unless it is everything.
func (s *reapScope) input(tx store.ReadTx) ReapInput {
	in := ReapInput{Retention: Retention(tx.GetCluster())}
	if s.all {
		in.Services, in.Tasks = tx.ListServices(), tx.ListTasks()
		return in
	}
	for id := range s.services {
		if svc := tx.GetService(id); svc != nil {
			in.Services = append(in.Services, svc)
		}
		in.Tasks = append(in.Tasks, tx.TasksByService(id)...)
	}
	for id := range s.loose {
		if t := tx.GetTask(id); t != nil {
			in.Tasks = append(in.Tasks, t)
		}
	}
	return in
}

func (r *Reaper) pass(ctx context.Context, scope reapScope) {
	var out ReapOutput
	r.store.View(func(tx store.ReadTx) { out = Reap(scope.input(tx)) })
	if len(out.Tasks) == 0 && len(out.Services) == 0 {
		return
	}
	err := r.store.Batch(ctx, func(b *store.Batch) error {
		for _, id := range out.Tasks {
			_ = b.Update(func(tx store.Tx) error {
				if tx.GetTask(id) == nil {
					return nil
				}
				return tx.Delete(store.KindTask, id)
			})
		}
		return nil
	})
	if err != nil {
		r.opts.log.Warn("task reaper: deleting tasks failed", "err", err)
		return
	}
	// A service goes once its last task has gone (checked again in the write).
	err = r.store.Batch(ctx, func(b *store.Batch) error {
		for _, id := range out.Services {
			_ = b.Update(func(tx store.Tx) error {
				s := tx.GetService(id)
				if s == nil || !s.PendingDelete || len(tx.TasksByService(id)) > 0 {
					return nil
				}
				return tx.Delete(store.KindService, id)
			})
		}
		return nil
	})
	if err != nil {
		r.opts.log.Warn("task reaper: deleting services failed", "err", err)
	}
}
