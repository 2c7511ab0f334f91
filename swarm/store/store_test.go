package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

func newService(name string) *Service {
	s := &Service{}
	s.ID = NewID()
	s.Spec.Name = name
	return s
}

func TestCreateReadUpdateDelete(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.SetClock(func() time.Time { return fixed })
	svc := newService("web")
	if err := s.Update(ctx, func(tx Tx) error { return tx.Create(svc) }); err != nil {
		t.Fatal(err)
	}
	var got *Service
	s.View(func(tx ReadTx) { got = tx.FindServiceByName("WEB") })
	if got == nil || got.ID != svc.ID {
		t.Fatalf("find by name: got %+v", got)
	}
	if got.Version.Index != 1 || !got.CreatedAt.Equal(fixed) || !got.UpdatedAt.Equal(fixed) {
		t.Fatalf("meta: %+v", got.Meta)
	}
	// a stale update is refused
	stale := got.Copy()
	upd := got.Copy()
	upd.Spec.Labels = map[string]string{"a": "b"}
	if err := s.Update(ctx, func(tx Tx) error { return tx.Update(upd) }); err != nil {
		t.Fatal(err)
	}
	stale.Spec.Labels = map[string]string{"c": "d"}
	if err := s.Update(ctx, func(tx Tx) error { return tx.Update(stale) }); !errors.Is(err, ErrSequenceConflict) {
		t.Fatalf("stale update: %v", err)
	}
	s.View(func(tx ReadTx) { got = tx.GetService(svc.ID) })
	if got.Version.Index != 2 || got.Spec.Labels["a"] != "b" {
		t.Fatalf("after update: %+v", got)
	}
	// the store does not share the caller's object
	upd.Spec.Labels["a"] = "changed"
	s.View(func(tx ReadTx) { got = tx.GetService(svc.ID) })
	if got.Spec.Labels["a"] != "b" {
		t.Fatal("store shares the caller's object")
	}
	if err := s.Update(ctx, func(tx Tx) error { return tx.Delete(KindService, svc.ID) }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx ReadTx) { got = tx.GetService(svc.ID) })
	if got != nil {
		t.Fatal("deleted service still there")
	}
}

func TestNameConflictAndRollback(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	if err := s.Update(ctx, func(tx Tx) error { return tx.Create(newService("web")) }); err != nil {
		t.Fatal(err)
	}
	other := newService("other")
	err := s.Update(ctx, func(tx Tx) error {
		if err := tx.Create(other); err != nil {
			return err
		}
		return tx.Create(newService("Web"))
	})
	if !errors.Is(err, ErrNameConflict) {
		t.Fatalf("want name conflict, got %v", err)
	}
	var n int
	s.View(func(tx ReadTx) { n = len(tx.ListServices()) })
	if n != 1 {
		t.Fatalf("a failed write left %d services", n)
	}
}

func TestApplyChecksVersionsDeterministically(t *testing.T) {
	s := New(nil)
	svc := newService("web")
	if err := s.Apply(5, &Proposal{Changes: []Change{changeFor(Create, svc, 0)}}); err != nil {
		t.Fatal(err)
	}
	u := svc.Copy()
	u.Version.Index = 4 // not what the store holds
	err := s.Apply(6, &Proposal{Changes: []Change{changeFor(Update, u, 4)}})
	if !errors.Is(err, ErrSequenceConflict) {
		t.Fatalf("want sequence conflict, got %v", err)
	}
	if s.Index() != 6 {
		t.Fatalf("index %d after a failed apply, want 6", s.Index())
	}
}

func TestTaskIndexes(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	mk := func(svc string, slot int, node string) *Task {
		tk := &Task{}
		tk.ID, tk.ServiceID, tk.Slot, tk.NodeID = NewID(), svc, slot, node
		return tk
	}
	err := s.Batch(ctx, func(b *Batch) error {
		for i := 0; i < 450; i++ {
			tk := mk("s1", i%3+1, []string{"n1", "n2"}[i%2])
			if err := b.Update(func(tx Tx) error { return tx.Create(tk) }); err != nil {
				return err
			}
		}
		return b.Update(func(tx Tx) error { return tx.Create(mk("s2", 0, "n1")) })
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx ReadTx) {
		if n := len(tx.TasksByService("s1")); n != 450 {
			t.Errorf("by service: %d", n)
		}
		if n := len(tx.TasksBySlot("s1", 2, "")); n != 150 {
			t.Errorf("by slot: %d", n)
		}
		if n := len(tx.TasksBySlot("s2", 0, "n1")); n != 1 {
			t.Errorf("global slot: %d", n)
		}
		if n := len(tx.TasksByNode("n1")); n != 226 {
			t.Errorf("by node: %d", n)
		}
	})
	if s.Index() != 3 { // 451 changes in proposals of at most 200
		t.Fatalf("batch wrote %d proposals, want 3", s.Index())
	}
}

func TestWatchAndSnapshot(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	ch, cancel := s.Watch()
	defer cancel()
	n := &Node{}
	n.ID = NewID()
	n.Description.Hostname = "host1"
	n.Status.State = swarm.NodeStateReady
	if err := s.Update(ctx, func(tx Tx) error { return tx.Create(n) }); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		if ev.Action != Create || ev.Object.GetID() != n.ID {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	var buf bytes.Buffer
	if err := s.Save(&buf); err != nil {
		t.Fatal(err)
	}
	s2 := New(nil)
	if err := s2.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	s2.View(func(tx ReadTx) {
		if l := tx.NodesByHostname("host1"); len(l) != 1 || l[0].ID != n.ID {
			t.Fatalf("restored nodes: %v", l)
		}
		if got := tx.FindByIDPrefix(KindNode, n.ID[:5]); len(got) != 1 {
			t.Fatalf("prefix: %v", got)
		}
	})
	if s2.Index() != s.Index() {
		t.Fatalf("index %d != %d", s2.Index(), s.Index())
	}
}

func TestBatchUpdateFailureUndoesOnlyItself(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	a, b, c := newService("a"), newService("b"), newService("c")
	boom := errors.New("boom")
	err := s.Batch(ctx, func(bt *Batch) error {
		if err := bt.Update(func(tx Tx) error { return tx.Create(a) }); err != nil {
			return err
		}
		if err := bt.Update(func(tx Tx) error {
			if err := tx.Create(b); err != nil {
				return err
			}
			return boom // b must not be written
		}); !errors.Is(err, boom) {
			t.Fatalf("failed part: %v", err)
		}
		// the failed part's name is free again within the batch
		return bt.Update(func(tx Tx) error {
			if tx.FindServiceByName("b") != nil {
				return errors.New("the failed part's service is still visible")
			}
			return tx.Create(c)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx ReadTx) {
		if tx.GetService(a.ID) == nil || tx.GetService(c.ID) == nil || tx.GetService(b.ID) != nil {
			t.Fatalf("after the batch: a %v, b %v, c %v", tx.GetService(a.ID) != nil, tx.GetService(b.ID) != nil, tx.GetService(c.ID) != nil)
		}
	})
}

func TestTasksByState(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	mk := func(state swarm.TaskState) *Task {
		tk := &Task{}
		tk.ID, tk.ServiceID, tk.Status.State = NewID(), "s", state
		return tk
	}
	pending := mk(swarm.TaskStatePending)
	if err := s.Update(ctx, func(tx Tx) error {
		for _, tk := range []*Task{pending, mk(swarm.TaskStateRunning), mk(swarm.TaskStateRunning)} {
			if err := tx.Create(tk); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got *Task
	s.View(func(tx ReadTx) { got = tx.GetTask(pending.ID) })
	moved := got.Copy()
	moved.Status.State = swarm.TaskStateAssigned
	if err := s.Update(ctx, func(tx Tx) error { return tx.Update(moved) }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx ReadTx) {
		if n := len(tx.TasksByState(swarm.TaskStatePending)); n != 0 {
			t.Errorf("pending after the move: %d (a stale index entry)", n)
		}
		if n := len(tx.TasksByState(swarm.TaskStateRunning)); n != 2 {
			t.Errorf("running: %d", n)
		}
		if n := len(tx.TasksByState(swarm.TaskStateAssigned)); n != 1 {
			t.Errorf("assigned: %d", n)
		}
	})
}
