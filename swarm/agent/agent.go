package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/taskstate"
)

// Config is what an agent needs.
type Config struct {
	NodeID     string
	Executor   Executor
	Dispatcher Dispatcher
	Logger     *slog.Logger
	// Now is the clock for status timestamps (nil: time.Now).
	Now func() time.Time
}

// Agent runs the tasks a dispatcher assigns to this node.
type Agent struct {
	cfg     Config
	mu      sync.Mutex
	runners map[string]*runner
	current Session                 // the session open now, nil between sessions
	pending map[string]StatusUpdate // reports not yet sent, latest per task
	kick    chan struct{}
	wg      sync.WaitGroup
	// netRetry is how long a failed network view waits before it is applied again.
	netRetry time.Duration
}

// New makes an agent; Run starts it.
func New(cfg Config) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Agent{cfg: cfg, runners: map[string]*runner{}, pending: map[string]StatusUpdate{}, kick: make(chan struct{}, 1),
		netRetry: netRetry}
}

// Run keeps a session with the dispatcher until ctx ends, reconnecting after failures. Task
// containers keep running across lost sessions. When ctx ends, Run waits for its runners to return
// (they leave containers as they are).
func (a *Agent) Run(ctx context.Context) error {
	defer a.wg.Wait()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := a.session(ctx)
		if ctx.Err() != nil {
			break
		}
		a.cfg.Logger.Warn("agent: session ended", "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
	return ctx.Err()
}

func (a *Agent) session(ctx context.Context) error {
	desc, err := a.cfg.Executor.Describe(ctx)
	if err != nil {
		return err
	}
	s, err := a.cfg.Dispatcher.Session(ctx, a.cfg.NodeID, desc)
	if err != nil {
		return err
	}
	defer s.Close()
	a.mu.Lock()
	a.current = s
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.current = nil
		a.mu.Unlock()
	}()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.heartbeat(sctx, s)
	go a.reportLoop(sctx, s)
	if ls, ok := s.(LogSession); ok {
		reader, _ := a.cfg.Executor.(LogReader)
		p := newLogPublisher(reader, ls, a.cfg.Logger)
		done := make(chan struct{})
		go func() { defer close(done); p.run(sctx) }()
		defer func() { cancel(); <-done }()
	}
	if ns, ok := s.(NetworkSession); ok {
		if ex, ok := a.cfg.Executor.(NetworkApplier); ok {
			p := &netApplier{ex: ex, sess: ns, log: a.cfg.Logger, retry: a.netRetry}
			done := make(chan struct{})
			go func() { defer close(done); p.run(sctx) }()
			defer func() { cancel(); <-done }()
		}
	}
	for {
		select {
		case tasks, ok := <-s.Assignments():
			if !ok {
				return nil
			}
			a.assign(ctx, tasks)
		case <-s.Done():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (a *Agent) heartbeat(ctx context.Context, s Session) {
	for {
		period, err := s.Heartbeat(ctx)
		if err != nil || period <= 0 {
			period = time.Second
		}
		select {
		case <-time.After(period):
		case <-ctx.Done():
			return
		}
	}
}

// assign starts runners for new tasks, hands updates to known ones, and removes the tasks that are
// no longer assigned.
func (a *Agent) assign(ctx context.Context, tasks []Task) {
	var rejected []StatusUpdate
	defer func() { // queued once a.mu is free: queue takes it
		for _, u := range rejected {
			a.queue(u)
		}
	}()
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := map[string]bool{}
	for _, t := range tasks {
		seen[t.ID] = true
		if r, ok := a.runners[t.ID]; ok {
			r.update(t)
			continue
		}
		ctrl, err := a.cfg.Executor.Controller(t, deps{a})
		if err != nil {
			if taskstate.Terminal(t.Status.State) {
				continue // reported already
			}
			rejected = append(rejected, StatusUpdate{TaskID: t.ID, Status: swarm.TaskStatus{State: swarm.TaskStateRejected,
				Message: "resolving controller failed", Err: err.Error(), Timestamp: a.cfg.Now()}})
			continue
		}
		r := newRunner(t, ctrl, a.queue, a.cfg.Now)
		a.runners[t.ID] = r
		a.wg.Add(1)
		go func(id string) {
			defer a.wg.Done()
			r.run(ctx)
			a.mu.Lock()
			if a.runners[id] == r {
				delete(a.runners, id)
			}
			a.mu.Unlock()
		}(t.ID)
	}
	for id, r := range a.runners {
		if !seen[id] {
			gone := r.task
			gone.DesiredState = swarm.TaskStateRemove
			r.update(gone)
		}
	}
}

func (a *Agent) queue(u StatusUpdate) {
	a.mu.Lock()
	a.pending[u.TaskID] = u
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// reportLoop sends queued status changes in batches: what piles up while one batch is on its way
// goes in the next.
func (a *Agent) reportLoop(ctx context.Context, s Session) {
	for {
		select {
		case <-a.kick:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return
		}
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.mu.Unlock()
			continue
		}
		batch := make([]StatusUpdate, 0, len(a.pending))
		for _, u := range a.pending {
			batch = append(batch, u)
		}
		a.pending = map[string]StatusUpdate{}
		a.mu.Unlock()
		if err := s.UpdateStatus(ctx, batch); err != nil {
			a.cfg.Logger.Warn("agent: status report failed; will retry", "err", err, "updates", len(batch))
			a.mu.Lock()
			for _, u := range batch {
				if cur, ok := a.pending[u.TaskID]; !ok || Rank(cur.Status.State) < Rank(u.Status.State) {
					a.pending[u.TaskID] = u
				}
			}
			a.mu.Unlock()
			select {
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			select {
			case a.kick <- struct{}{}:
			default:
			}
		}
	}
}

// deps fetches a task's secrets and configs through the agent's current session.
type deps struct{ a *Agent }

func (d deps) session() (DependencySession, error) {
	d.a.mu.Lock()
	s := d.a.current
	d.a.mu.Unlock()
	ds, ok := s.(DependencySession)
	if !ok {
		return nil, errors.New("agent: no manager session to fetch secrets and configs from")
	}
	return ds, nil
}

func (d deps) Secret(ctx context.Context, id string) (*swarm.Secret, error) {
	ds, err := d.session()
	if err != nil {
		return nil, err
	}
	secrets, _, err := ds.Dependencies(ctx, []string{id}, nil)
	if err != nil {
		return nil, err
	}
	if len(secrets) != 1 {
		return nil, fmt.Errorf("secret %s not found", id)
	}
	return &secrets[0], nil
}

func (d deps) Config(ctx context.Context, id string) (*swarm.Config, error) {
	ds, err := d.session()
	if err != nil {
		return nil, err
	}
	_, configs, err := ds.Dependencies(ctx, nil, []string{id})
	if err != nil {
		return nil, err
	}
	if len(configs) != 1 {
		return nil, fmt.Errorf("config %s not found", id)
	}
	return &configs[0], nil
}

func (d deps) RegistryAuth(ctx context.Context, serviceID string) (string, error) {
	ds, err := d.session()
	if err != nil {
		return "", err
	}
	return ds.RegistryAuth(ctx, serviceID)
}
