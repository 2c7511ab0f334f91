package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/docker/docker/api/types/backend"
	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/events"
	"github.com/shoal-project/shoal/routes"
	"github.com/shoal-project/shoal/runtime/container"
	"github.com/shoal-project/shoal/swarm/control"
	"github.com/shoal-project/shoal/swarm/node"
	"github.com/shoal-project/shoal/swarm/store"
)

// Run serves the Engine API until ctx ends, then shuts down in order: listeners, swarm membership.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if len(cfg.Hosts) == 0 {
		cfg.Hosts = []string{DefaultHost}
	}
	if cfg.DataRoot == "" {
		cfg.DataRoot = DefaultDataRoot
	}
	if cfg.ExecRoot == "" {
		cfg.ExecRoot = DefaultExecRoot
	}
	for _, d := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return err
		}
	}
	var listeners []net.Listener
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	for _, h := range cfg.Hosts {
		l, err := listen(h, &cfg, log)
		if err != nil {
			closeAll()
			return fmt.Errorf("failed to listen on %s: %w", h, err)
		}
		listeners = append(listeners, l)
	}

	eng, err := newEngine(ctx, cfg, log)
	if err != nil {
		closeAll()
		return err
	}
	defer eng.close()

	handler := eng.forwarding(routes.New(eng.routesConfig(cfg, log)))
	eng.api.set(handler)
	// streams (events, logs -f, stats) end when the daemon stops: their requests' context is
	// cancelled a moment after shutdown begins, once short calls had their chance to finish
	base, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return base }}
	errc := make(chan error, len(listeners))
	var wg sync.WaitGroup
	for _, l := range listeners {
		wg.Add(1)
		go func(l net.Listener) {
			defer wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(l)
		log.Info("API listen on " + l.Addr().String())
	}
	log.Info("Daemon has completed initialization", "version", Version, "data-root", cfg.DataRoot)
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("Processing signal 'terminated'")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	time.AfterFunc(streamGrace, endStreams)
	srv.Shutdown(sctx)
	wg.Wait()
	return err
}

// streamGrace is how long a stopping daemon lets calls in progress finish before it ends the
// streams that would otherwise hold the shutdown until its deadline.
const streamGrace = time.Second

// engine holds the parts of a running daemon.
type engine struct {
	system *systemBackend
	events *events.Log
	// containerEvents carries runtime events to publishContainerEvents.
	containerEvents chan container.Event
	parts           *parts
	cluster         *control.Cluster
	api             *lateHandler // the Engine API as served to forwarding managers
	closers         []func()
}

func newEngine(ctx context.Context, cfg Config, log *slog.Logger) (*engine, error) {
	e := &engine{system: &systemBackend{facts: readHostFacts(cfg.DataRoot), insecure: cfg.InsecureRegistries}, events: events.New(),
		containerEvents: make(chan container.Event, 1024)}
	parts, err := newParts(ctx, cfg, log, e.containerEvent)
	if err != nil {
		return nil, err
	}
	e.parts = parts
	go e.publishContainerEvents()
	e.closers = append(e.closers, parts.close) // the event goroutine ends with the process
	e.api = &lateHandler{}
	mgr := node.NewManager(node.Config{Dir: filepath.Join(cfg.DataRoot, "swarm"), Executor: parts.executor,
		Logger: log, LeaderLoops: leaderLoops(log), OnLeave: parts.removeTaskContainers, OnChange: func(ev store.Event) {
			if m, ok := events.FromStore(ev); ok {
				e.events.Publish(m)
			}
		}})
	mgr.SetAPI(e.api)                // what this manager serves to followers that forward to it
	current, err := mgr.Restore(ctx) // nil outside a swarm
	if err != nil {
		e.close()
		return nil, err
	}
	e.cluster = control.New(mgr, current)
	e.cluster.SetTaskLogSource(taskLogs{e.cluster}) // through the nodes' agent sessions
	e.closers = append(e.closers, func() {
		// the membership in force now (init or leave may have changed it)
		if n, ok := e.cluster.CurrentNode().(*node.Membership); ok && n != nil {
			n.Close()
		}
	})
	e.system.containers = parts.containerCounts
	e.system.images = parts.imageCount
	return e, nil
}

func (e *engine) routesConfig(cfg Config, log *slog.Logger) routes.Config {
	return routes.Config{
		Cluster:          e.cluster,
		System:           e.system,
		Images:           e.parts.images,
		Containers:       e.parts.containers,
		Events:           e.events,
		LocalNetworks:    e.system,
		NetworkEndpoints: e.parts,
		Volumes:          e.parts.containers, // the runtime's local volumes
		ServerVersion:    Version,
		Experimental:     cfg.Experimental,
		Logger:           log,
	}
}

// forwarding sends cluster calls that reach a follower manager to the leader, as dockerd's
// managers do; everything else is served here.
func (e *engine) forwarding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mb, ok := e.cluster.CurrentNode().(*node.Membership); ok && mb != nil && mb.ShouldForward(r) {
			mb.Forward(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// taskLogs reads task logs through the current membership, which asks the agent of the node
// running the task over its session with this manager (control.TaskLogSource).
type taskLogs struct{ c *control.Cluster }

func (l taskLogs) TaskLogs(ctx context.Context, t swarm.Task, opts containertypes.LogsOptions) (<-chan *backend.LogMessage, error) {
	mb, ok := l.c.CurrentNode().(*node.Membership)
	if !ok || mb == nil {
		return nil, errdefs.Unavailable(errors.New("this node is not part of a swarm"))
	}
	return mb.TaskLogs(ctx, t, opts)
}

// lateHandler is an http.Handler set after it is handed out (the API exists only once the swarm
// membership it serves has been restored).
type lateHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lateHandler) set(h http.Handler) {
	l.mu.Lock()
	l.h = h
	l.mu.Unlock()
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	if h == nil {
		http.Error(w, `{"message":"the daemon is starting"}`, http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

func (e *engine) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}
