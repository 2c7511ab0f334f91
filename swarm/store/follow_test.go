package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestFollow: one pass at the start, then one per burst that holds an event note wants, with note
// seeing every event; Follow ends with its context.
func TestFollow(t *testing.T) {
	s := New(nil)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	passes, seen := 0, 0
	passed := make(chan struct{}, 16)
	note := func(ev Event) bool {
		mu.Lock()
		defer mu.Unlock()
		seen++
		return ev.Object.(*Service).Spec.Name != "ignored"
	}
	pass := func(context.Context) {
		mu.Lock()
		passes++
		mu.Unlock()
		passed <- struct{}{}
	}
	ended := make(chan error, 1)
	go func() { ended <- s.Follow(ctx, "test", note, pass) }()
	wait := func(what string) {
		t.Helper()
		select {
		case <-passed:
		case <-time.After(5 * time.Second):
			t.Fatalf("no pass after %s", what)
		}
	}
	wait("start")
	create := func(names ...string) {
		err := s.Update(ctx, func(tx Tx) error {
			for _, n := range names {
				if err := tx.Create(newService(n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	create("ignored")
	create("a", "b", "c") // one write: one burst of three events
	wait("a burst")
	select {
	case <-passed:
		t.Fatal("a second pass for one burst")
	case <-time.After(100 * time.Millisecond):
	}
	mu.Lock()
	got := fmt.Sprintf("passes %d, events seen %d", passes, seen)
	mu.Unlock()
	if got != "passes 2, events seen 4" {
		t.Errorf("%s, want passes 2, events seen 4", got)
	}
	cancel()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("Follow ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not end with its context")
	}
}
