package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

// Scheduler is the shell around Schedule: after each burst of task, node or service changes it
// schedules the pending tasks of a fresh snapshot and writes all decisions in one store Batch.
type Scheduler struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time
}

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Scheduler) { s.log = l } }

// WithClock sets the clock that stamps task statuses (default: time.Now).
func WithClock(now func() time.Time) Option { return func(s *Scheduler) { s.now = now } }

// New makes a scheduler for the store. Run starts it.
func New(s *store.Store, opts ...Option) *Scheduler {
	sc := &Scheduler{store: s, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(sc)
	}
	return sc
}

// Run schedules until ctx ends; it returns nil then, or an error if the store's watch ends. Run must
// be called once, on the leader.
func (s *Scheduler) Run(ctx context.Context) error {
	return s.store.Follow(ctx, "scheduler", matters, s.pass)
}

// matters reports whether an event can change a scheduling decision.
func matters(ev store.Event) bool {
	switch ev.Object.(type) {
	case *store.Task, *store.Node, *store.Service:
		return true
	}
	return false
}

// pass schedules the pending tasks of a snapshot and writes the decisions. A decision whose task
// changed since the snapshot is dropped; the change that beat it brings another pass.
func (s *Scheduler) pass(ctx context.Context) {
	var decisions []*store.Task
	s.store.View(func(tx store.ReadTx) {
		// most events (status reports) leave nothing to place: the state index says so without
		// reading every task
		if len(tx.TasksByState(swarm.TaskStatePending)) == 0 {
			return
		}
		decisions = Schedule(Input{Nodes: tx.ListNodes(), Tasks: tx.ListTasks(), Services: tx.ListServices(), Now: s.now()})
	})
	if len(decisions) == 0 {
		return
	}
	err := s.store.Batch(ctx, func(b *store.Batch) error {
		for _, d := range decisions {
			err := b.Update(func(tx store.Tx) error {
				d.UpdatedAt = tx.Now()
				return tx.Update(d)
			})
			if err != nil && !errors.Is(err, store.ErrSequenceConflict) && !errors.Is(err, store.ErrNotExist) {
				s.log.Warn("scheduler: writing a decision failed", "task", d.ID, "err", err)
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("scheduler: batch failed", "err", err)
	}
}
