package transport

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/dispatcher"
	"github.com/shoal-project/shoal/swarm/store"
)

// fakeExecutor runs tasks whose containers start at once and run until shut down.
type fakeExecutor struct{}

func (fakeExecutor) Describe(context.Context) (swarm.NodeDescription, error) {
	return swarm.NodeDescription{Hostname: "worker-1"}, nil
}

func (fakeExecutor) Controller(agent.Task, agent.Dependencies) (agent.Controller, error) {
	return &fakeController{stop: make(chan struct{})}, nil
}

type fakeController struct{ stop chan struct{} }

func (c *fakeController) Prepare(context.Context) error { return nil }
func (c *fakeController) Start(context.Context) error   { return nil }
func (c *fakeController) Wait(ctx context.Context) error {
	select {
	case <-c.stop:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (c *fakeController) Shutdown(context.Context) error { close(c.stop); return nil }
func (c *fakeController) Remove(context.Context) error   { return nil }
func (c *fakeController) State(context.Context) (agent.ContainerState, error) {
	return agent.ContainerMissing, nil
}

// The real agent runs over the channel: it registers, receives its task and reports it running.
func TestAgentOverChannel(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	st := sessionStore(t)
	srv.ServeDispatcher(dispatcher.New(st, quietLog()))
	ctx, cancel := context.WithCancel(context.Background())
	a := agent.New(agent.Config{NodeID: "w1", Executor: fakeExecutor{}, Dispatcher: NewClient(cl.worker(t, "w1"), []string{addr}), Logger: quietLog()})
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, 20*time.Second, "t1 running on w1", func() bool {
		var tk *store.Task
		var n *store.Node
		st.View(func(tx store.ReadTx) { tk, n = tx.GetTask("t1"), tx.GetNode("w1") })
		return tk.Status.State == swarm.TaskStateRunning && n.Description.Hostname == "worker-1"
	})
}
