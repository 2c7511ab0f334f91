package orchestrator

import (
	"context"
	"errors"

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
	events, cancel := r.store.Watch()
	defer cancel()
	need := true
	for {
		if need {
			r.pass(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return errors.New("task reaper: store watch ended")
			}
			need = reapMatters(ev)
			for more := true; more; {
				select {
				case ev, ok := <-events:
					if !ok {
						return errors.New("task reaper: store watch ended")
					}
					need = need || reapMatters(ev)
				default:
					more = false
				}
			}
		}
	}
}

// reapMatters reports whether an event can make a task or service deletable.
func reapMatters(ev store.Event) bool {
	switch ev.Object.(type) {
	case *store.Task, *store.Service, *store.Cluster:
		return true
	}
	return false
}

func (r *Reaper) pass(ctx context.Context) {
	var out ReapOutput
	r.store.View(func(tx store.ReadTx) {
		out = Reap(ReapInput{Services: tx.ListServices(), Tasks: tx.ListTasks(), Retention: Retention(tx.GetCluster())})
	})
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
