package transport

import (
	"context"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/agent"
	"github.com/shoal-project/shoal/swarm/dispatcher"
	"github.com/shoal-project/shoal/swarm/netview"
	"github.com/shoal-project/shoal/swarm/store"
)

const netWait = 10 * time.Second

// fakeDispSession is a manager's session the test drives: what it sends on assign and nets is
// what the manager's dispatcher would deliver.
type fakeDispSession struct {
	assign chan []agent.Task
	logs   chan []agent.LogSubscription
	done   chan struct{}
	once   sync.Once
}

func newFakeDispSession() *fakeDispSession {
	return &fakeDispSession{assign: make(chan []agent.Task), logs: make(chan []agent.LogSubscription), done: make(chan struct{})}
}

func (f *fakeDispSession) Assignments() <-chan []agent.Task                         { return f.assign }
func (f *fakeDispSession) UpdateStatus(context.Context, []agent.StatusUpdate) error { return nil }
func (f *fakeDispSession) Heartbeat(context.Context) (time.Duration, error) {
	return 5 * time.Second, nil
}
func (f *fakeDispSession) Done() <-chan struct{}                                { return f.done }
func (f *fakeDispSession) Close()                                               { f.once.Do(func() { close(f.done) }) }
func (f *fakeDispSession) LogSubscriptions() <-chan []agent.LogSubscription     { return f.logs }
func (f *fakeDispSession) PublishLogs(context.Context, agent.LogBatch) error    { return nil }
func (f *fakeDispSession) RegistryAuth(context.Context, string) (string, error) { return "", nil }
func (f *fakeDispSession) Dependencies(context.Context, []string, []string) ([]swarm.Secret, []swarm.Config, error) {
	return nil, nil, nil
}

// netDispSession is a fakeDispSession that also delivers network views (a manager that computes
// them).
type netDispSession struct {
	*fakeDispSession
	nets chan netview.NodeView
}

func (f netDispSession) Networks() <-chan netview.NodeView { return f.nets }

// serveSession serves ds as session "s1" of a Dispatcher service (rcvr: the service as the
// manager registers it) over an in-memory connection, and returns the client's session on it.
func serveSession(t *testing.T, ds dispatcherSession, rcvr func(*dispatcherService) any) *clientSession {
	t.Helper()
	cconn, sconn := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	d := &dispatcherService{ctx: ctx, sessions: map[string]*serverSession{}}
	ss := newServerSession(ds)
	d.sessions["s1"] = ss
	go ss.pump()
	srv := rpc.NewServer()
	if err := srv.RegisterName("Dispatcher", rcvr(d)); err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.ServeCodec(jsonrpc.NewServerCodec(&ctxConn{Conn: sconn, cancel: cancel, left: -1}))
	}()
	cs := newClientSession(jsonrpc.NewClient(cconn), "s1")
	t.Cleanup(func() {
		cs.Close()
		sconn.Close()
		<-served
		cancel()
		d.closeAll()
	})
	return cs
}

func sameService(d *dispatcherService) any { return d }

func sampleView(vni uint32) netview.NodeView {
	return netview.NodeView{IngressAddr: "10.0.0.3/24", Networks: []netview.Network{{
		ID: "net1", Name: "backend", VNI: vni, Subnet: "10.0.1.0/24", Gateway: "10.0.1.1",
		Endpoints: []netview.Endpoint{{TaskID: "t1", ServiceID: "s1", NodeID: "w1", IP: "10.0.1.5", VTEP: "198.18.0.2",
			Names: []string{"web.1.t1", "t1"}, Running: true}},
		Services: []netview.Service{{ID: "s1", Name: "web", VIP: "10.0.1.2", Aliases: []string{"www"},
			Ports: []netview.Port{{Protocol: "tcp", PublishedPort: 8080, TargetPort: 80}}}},
	}}}
}

// nextView waits for a view whose first network has the VNI want, skipping older ones.
func nextView(t *testing.T, s *clientSession, want uint32) netview.NodeView {
	t.Helper()
	deadline := time.After(netWait)
	for {
		select {
		case v := <-s.Networks():
			if len(v.Networks) == 1 && v.Networks[0].VNI == want {
				return v
			}
			if len(v.Networks) != 1 || v.Networks[0].VNI > want {
				t.Fatalf("view %+v while waiting for VNI %d", v, want)
			}
		case <-s.Done():
			t.Fatalf("session ended waiting for VNI %d", want)
		case <-deadline:
			t.Fatalf("no view with VNI %d within %v", want, netWait)
		}
	}
}

func sendView(t *testing.T, nets chan<- netview.NodeView, v netview.NodeView) {
	t.Helper()
	select {
	case nets <- v:
	case <-time.After(netWait):
		t.Fatal("the server session does not take network views")
	}
}

// Each view the manager's session delivers reaches the client whole; the latest wins when the
// client reads late; the session ending on the manager ends the client's session.
func TestNetworksOverSession(t *testing.T) {
	ds := netDispSession{fakeDispSession: newFakeDispSession(), nets: make(chan netview.NodeView)}
	cs := serveSession(t, ds, sameService)

	sendView(t, ds.nets, sampleView(4097))
	if got := nextView(t, cs, 4097); !reflect.DeepEqual(got, sampleView(4097)) {
		t.Fatalf("view %+v, want %+v", got, sampleView(4097))
	}
	sendView(t, ds.nets, sampleView(4098))
	nextView(t, cs, 4098)
	// views the client has not read yet: the newest is delivered last, none after it
	for vni := uint32(4099); vni <= 4105; vni++ {
		sendView(t, ds.nets, sampleView(vni))
	}
	nextView(t, cs, 4105)
	select {
	case v := <-cs.Networks():
		t.Fatalf("view %+v after the newest", v)
	default:
	}

	ds.Close()
	select {
	case <-cs.Done():
	case <-time.After(netWait):
		t.Fatal("client session still open after the manager ended it")
	}
	if !cs.ended.Load() {
		t.Error("session not marked ended by the manager")
	}
}

// A manager whose session computes no views serves the session as before: the network poll
// delivers nothing, tasks still flow.
func TestNetworksManagerWithoutViews(t *testing.T) {
	ds := newFakeDispSession()
	cs := serveSession(t, ds, sameService)
	select {
	case ds.assign <- []agent.Task{{Task: swarm.Task{ID: "t1"}}}:
	case <-time.After(netWait):
		t.Fatal("assignments not taken")
	}
	if ts := nextSet(t, cs, "assignments", func([]agent.Task) bool { return true }); len(ts) != 1 || ts[0].ID != "t1" {
		t.Fatalf("assigned %v", ids(ts))
	}
	select {
	case v := <-cs.Networks():
		t.Fatalf("view %+v from a session without views", v)
	default:
	}
}

// oldDispatcher is the Dispatcher service of a manager that predates Dispatcher.Networks.
type oldDispatcher struct{ d *dispatcherService }

func (o oldDispatcher) Assignments(req AssignmentsRequest, reply *AssignmentsReply) error {
	return o.d.Assignments(req, reply)
}

func (o oldDispatcher) LogSubscriptions(req LogSubscriptionsRequest, reply *LogSubscriptionsReply) error {
	return o.d.LogSubscriptions(req, reply)
}

// A manager without Dispatcher.Networks stops only the network poll: the session goes on.
func TestNetworksOldManager(t *testing.T) {
	ds := newFakeDispSession()
	cs := serveSession(t, ds, func(d *dispatcherService) any { return oldDispatcher{d} })
	var r NetworksReply
	err := call(ctxT(t, netWait), cs.rc, "Dispatcher.Networks", NetworksRequest{Session: "s1"}, &r)
	if err == nil || endsSession(err) {
		t.Fatalf("Networks on an old manager: %v (ends the session: %v)", err, endsSession(err))
	}
	for i := 1; i <= 2; i++ { // the assignments poll goes on after the network poll failed
		select {
		case ds.assign <- []agent.Task{{Task: swarm.Task{ID: "t1", Meta: swarm.Meta{Version: swarm.Version{Index: uint64(i)}}}}}:
		case <-time.After(netWait):
			t.Fatal("assignments not taken")
		}
		nextSet(t, cs, "assignments", func(ts []agent.Task) bool { return len(ts) == 1 && ts[0].Version.Index == uint64(i) })
	}
	select {
	case <-cs.Done():
		t.Fatal("session ended")
	default:
	}
}

// goneNetworks answers the network poll that the session is gone, and holds the other polls.
type goneNetworks struct{ d *dispatcherService }

func (g goneNetworks) Assignments(req AssignmentsRequest, reply *AssignmentsReply) error {
	<-g.d.ctx.Done()
	return g.d.ctx.Err()
}

func (g goneNetworks) LogSubscriptions(req LogSubscriptionsRequest, reply *LogSubscriptionsReply) error {
	<-g.d.ctx.Done()
	return g.d.ctx.Err()
}

func (g goneNetworks) Networks(req NetworksRequest, reply *NetworksReply) error { return errNoSession }

// A network poll answered that the session is gone ends the session.
func TestNetworksPollEndsSession(t *testing.T) {
	cs := serveSession(t, newFakeDispSession(), func(d *dispatcherService) any { return goneNetworks{d} })
	select {
	case <-cs.Done():
	case <-time.After(netWait):
		t.Fatal("session still open after the network poll was answered NotFound")
	}
	if !cs.ended.Load() {
		t.Error("session not marked ended by the manager")
	}
}

// Over the real channel and the manager's dispatcher: the agent's session delivers the node's
// first view at once, and a network that a task of the node attaches to arrives when the store
// changes; removing the node ends the session and its polls.
func TestNetworksFromDispatcher(t *testing.T) {
	cl := newTestCluster(t, "cluster1")
	srv, addr := listen(t, cl.manager(t, "m1"))
	st := sessionStore(t)
	srv.ServeDispatcher(dispatcher.New(st, quietLog()))
	ctx := ctxT(t, 30*time.Second)
	s, err := NewClient(cl.worker(t, "w1"), []string{addr}).Session(ctx, "w1", swarm.NodeDescription{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ns, ok := s.(agent.NetworkSession)
	if !ok {
		t.Fatal("the client's session delivers no network views")
	}
	select {
	case v := <-ns.Networks():
		if len(v.Networks) != 0 {
			t.Fatalf("first view %+v, want no networks", v)
		}
	case <-time.After(netWait):
		t.Fatal("no first view")
	}

	err = st.Update(ctx, func(tx store.Tx) error {
		n := &store.Network{VNI: 4097}
		n.ID = "net1"
		n.Spec.Name = "backend"
		n.IPAMOptions = &swarm.IPAMOptions{Configs: []swarm.IPAMConfig{{Subnet: "10.0.1.0/24", Gateway: "10.0.1.1"}}}
		if err := tx.Create(n); err != nil {
			return err
		}
		tk := tx.GetTask("t1").Copy()
		tk.NetworksAttachments = []swarm.NetworkAttachment{{Network: n.Network, Addresses: []string{"10.0.1.5/24"}}}
		return tx.Update(tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(netWait)
	for done := false; !done; {
		select {
		case v := <-ns.Networks():
			if len(v.Networks) == 0 {
				continue
			}
			n := v.Networks[0]
			if len(v.Networks) != 1 || n.ID != "net1" || n.VNI != 4097 || n.Subnet != "10.0.1.0/24" || n.Gateway != "10.0.1.1" ||
				len(n.Endpoints) != 1 || n.Endpoints[0].TaskID != "t1" || n.Endpoints[0].IP != "10.0.1.5" {
				t.Fatalf("view %+v", v)
			}
			done = true
		case <-s.Done():
			t.Fatal("session ended waiting for the network")
		case <-deadline:
			t.Fatal("the network the node's task attaches to did not arrive")
		}
	}

	if err := st.Update(ctx, func(tx store.Tx) error { return tx.Delete(store.KindNode, "w1") }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("session still open after the node was removed")
	}
}
