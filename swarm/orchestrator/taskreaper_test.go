package orchestrator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/shoal-project/shoal/swarm/store"
)

// reaperStore holds services svc0..svcN-1, each with one running task and history dead tasks in
// slot 1.
func reaperStore(tb testing.TB, services, history int) *store.Store {
	tb.Helper()
	st := store.New(nil)
	err := st.Update(context.Background(), func(tx store.Tx) error {
		for i := 0; i < services; i++ {
			svc := replicatedService(fmt.Sprintf("svc%d", i), 1)
			if err := tx.Create(svc); err != nil {
				return err
			}
			run := histTask(fmt.Sprintf("t%d-run", i), svc.ID, 1, "a", swarm.TaskStateRunning, swarm.TaskStateRunning, 0)
			if err := tx.Create(run); err != nil {
				return err
			}
			for h := 1; h <= history; h++ {
				dead := histTask(fmt.Sprintf("t%d-%d", i, h), svc.ID, 1, "a", swarm.TaskStateShutdown, swarm.TaskStateFailed, time.Duration(h)*time.Minute)
				if err := tx.Create(dead); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func TestReapScopeReadsOnlyWhatChanged(t *testing.T) {
	st := reaperStore(t, 3, 6) // 7 tasks a slot: 2 over the default limit of 5 in each service
	var svc1 *store.Service
	st.View(func(tx store.ReadTx) { svc1 = tx.FindServiceByName("svc1") })
	cases := []struct {
		name  string
		scope reapScope
		want  string
	}{
		{"nothing", reapScope{}, "[]"},
		{"a task of svc1", func() reapScope {
			var s reapScope
			s.note(store.Event{Action: store.Update, Object: histTask("t1-run", svc1.ID, 1, "a", swarm.TaskStateRunning, swarm.TaskStateRunning, 0)})
			return s
		}(), "[t1-5 t1-6]"},
		{"the cluster", func() reapScope {
			var s reapScope
			s.note(store.Event{Action: store.Update, Object: &store.Cluster{}})
			return s
		}(), "[t0-5 t0-6 t1-5 t1-6 t2-5 t2-6]"},
	}
	for _, c := range cases {
		var out ReapOutput
		st.View(func(tx store.ReadTx) { out = Reap(c.scope.input(tx)) })
		if got := fmt.Sprint(out.Tasks); got != c.want && !(c.want == "[]" && len(out.Tasks) == 0) {
			t.Errorf("%s: reaped %s, want %s", c.name, got, c.want)
		}
	}
}

// BenchmarkReaperPass: what one burst of status reports costs the reaper in a swarm of 10000 tasks
// (1000 services, 10 tasks each), reading everything against reading the one service touched.
func BenchmarkReaperPass(b *testing.B) {
	st := reaperStore(b, 1000, 9)
	var svc *store.Service
	st.View(func(tx store.ReadTx) { svc = tx.FindServiceByName("svc500") })
	for _, bc := range []struct {
		name  string
		scope reapScope
	}{
		{"all-tasks", reapScope{all: true}},
		{"one-service", reapScope{services: map[string]bool{svc.ID: true}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				st.View(func(tx store.ReadTx) { Reap(bc.scope.input(tx)) })
			}
		})
	}
}
