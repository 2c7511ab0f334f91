package agent

import (
	"context"
	"log/slog"
	"time"

	"github.com/shoal-project/shoal/swarm/netview"
)

// netRetry is how long the agent waits before it applies again a network view whose apply failed
// (unless a newer view arrives meanwhile).
const netRetry = 2 * time.Second

// netApplier hands the network views of one session to the executor's data plane, one apply at a
// time. It always takes the session's views at once, so a slow apply never holds up the sender;
// the newest view not yet applied is the next one (views that a newer one replaced before their
// turn are skipped). A failed apply is logged and the same view is applied again after retry,
// unless a newer view arrives first.
type netApplier struct {
	ex    NetworkApplier
	sess  NetworkSession
	log   *slog.Logger
	retry time.Duration
}

// run applies views until ctx (the session's) ends, then waits for an apply in flight, which ctx
// cancels, to return. What the executor applied stays applied: the data plane keeps working while
// no manager is reachable.
func (p *netApplier) run(ctx context.Context) {
	var (
		views    = p.sess.Networks()
		next     *netview.NodeView // the newest view not yet applied
		cur      netview.NodeView  // the view applied last (or being applied)
		applying bool
		result   = make(chan error, 1)
		retry    <-chan time.Time // set while a failed view waits to be applied again
	)
	for {
		if next != nil && !applying && ctx.Err() == nil {
			cur, next, applying = *next, nil, true
			go func(v netview.NodeView) { result <- p.ex.ApplyNetworks(ctx, v) }(cur)
		}
		select {
		case v, ok := <-views:
			if !ok {
				views = nil // the session delivers no more views; it ends with ctx
				continue
			}
			next, retry = &v, nil
		case err := <-result:
			applying = false
			if err != nil && ctx.Err() == nil {
				p.log.Warn("agent: applying the network view failed; will retry", "err", err, "networks", len(cur.Networks))
				if next == nil {
					retry = time.After(p.retry)
				}
			}
		case <-retry:
			retry = nil
			v := cur
			next = &v
		case <-ctx.Done():
			if applying {
				<-result
			}
			return
		}
	}
}
