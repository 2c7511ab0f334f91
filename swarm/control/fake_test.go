package control

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/swarm/store"
)

// fakeNode is a manager membership with an in-memory store (no Raft).
type fakeNode struct {
	st *store.Store
	id string
}

func (n fakeNode) Store() *store.Store                       { return n.st }
func (n fakeNode) NodeID() string                            { return n.id }
func (n fakeNode) Addr() string                              { return "127.0.0.1" }
func (n fakeNode) RemoteManagers() []swarm.Peer              { return nil }
func (n fakeNode) RaftMembers() (reachable, unreachable int) { return 1, 0 }

var testNow = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

// newTestCluster is a manager on node "node1" with an empty store and a fixed clock.
func newTestCluster(t *testing.T) (*Cluster, *store.Store) {
	t.Helper()
	st := store.New(nil)
	st.SetClock(func() time.Time { return testNow })
	return &Cluster{node: fakeNode{st: st, id: "node1"}}, st
}

// put writes objects straight into the store.
func put(t *testing.T, st *store.Store, objs ...store.Object) {
	t.Helper()
	err := st.Update(context.Background(), func(tx store.Tx) error {
		for _, o := range objs {
			if err := tx.Create(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
}

// statusOf is the HTTP status the routes give an error's class.
func statusOf(err error) int {
	switch {
	case err == nil:
		return 200
	case errdefs.IsNotFound(err):
		return 404
	case errdefs.IsInvalidParameter(err):
		return 400
	case errdefs.IsConflict(err):
		return 409
	case errdefs.IsUnavailable(err):
		return 503
	case errdefs.IsForbidden(err):
		return 403
	case errdefs.IsNotImplemented(err):
		return 501
	}
	return 500
}

// wantErr fails unless err has the status and the exact text.
func wantErr(t *testing.T, err error, status int, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want %d %q", status, text)
	}
	if got := statusOf(err); got != status || err.Error() != text {
		t.Fatalf("error = %d %q, want %d %q", got, err.Error(), status, text)
	}
}

// specJSON decodes a request body as the routes would.
func specJSON(t *testing.T, body string) swarm.ServiceSpec {
	t.Helper()
	var s swarm.ServiceSpec
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("decode spec: %v", err)
	}
	return s
}

func simpleSpec(name string) swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: name},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "bb:1"}},
	}
}

func mustCreateService(t *testing.T, c *Cluster, spec swarm.ServiceSpec) string {
	t.Helper()
	resp, err := c.CreateService(context.Background(), spec, "", false)
	if err != nil {
		t.Fatalf("CreateService(%s): %v", spec.Name, err)
	}
	return resp.ID
}

func mustGetService(t *testing.T, c *Cluster, ref string) swarm.Service {
	t.Helper()
	s, err := c.GetService(context.Background(), ref, false)
	if err != nil {
		t.Fatalf("GetService(%s): %v", ref, err)
	}
	return s
}

// addIngress stores an ingress network, as swarm init does.
func addIngress(t *testing.T, c *Cluster) string {
	t.Helper()
	id, err := c.CreateNetwork(context.Background(), network.CreateRequest{Name: "ingress", CreateOptions: network.CreateOptions{Driver: "overlay", Ingress: true}})
	if err != nil {
		t.Fatalf("create ingress: %v", err)
	}
	return id
}

// filterArgs parses a ?filters= value, map or legacy list form.
func filterArgs(t *testing.T, raw string) filters.Args {
	t.Helper()
	f, err := filters.FromJSON(raw)
	if err != nil {
		t.Fatalf("filters %s: %v", raw, err)
	}
	return f
}

func serviceNames(list []swarm.Service) string {
	var names []string
	for _, s := range list {
		names = append(names, s.Spec.Name)
	}
	return strings.Join(names, ",")
}
