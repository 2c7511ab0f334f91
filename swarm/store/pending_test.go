package store

import (
	"context"
	"testing"
)

func TestPendingDeleteFreesName(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	a := newService("web")
	if err := s.Update(ctx, func(tx Tx) error { return tx.Create(a) }); err != nil {
		t.Fatal(err)
	}
	var cur *Service
	s.View(func(tx ReadTx) { cur = tx.GetService(a.ID) })
	p := cur.Copy()
	p.PendingDelete = true
	if err := s.Update(ctx, func(tx Tx) error { return tx.Update(p) }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx ReadTx) {
		if x := tx.FindServiceByName("web"); x != nil {
			t.Fatalf("a service being removed is still found by name: %+v", x.ID)
		}
	})
	if err := s.Update(ctx, func(tx Tx) error { return tx.Create(newService("web")) }); err != nil {
		t.Fatal(err)
	}
}
