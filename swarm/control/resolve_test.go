package control

import (
	"context"
	"testing"

	"github.com/shoal-project/shoal/swarm/store"
)

func TestResolveOtherKinds(t *testing.T) {
	ctx := context.Background()
	c, st := newTestCluster(t)
	sec := func(id, name string) *store.Secret {
		s := &store.Secret{}
		s.ID, s.Spec.Name, s.Spec.Data = id, name, []byte("x")
		return s
	}
	nw := func(id, name string) *store.Network {
		n := &store.Network{}
		n.ID, n.Spec.Name = id, name
		return n
	}
	put(t, st, sec("k1aaa", "Token"), sec("k1bbb", "other"), nw("n1aaa", "Back"), nw("n1bbb", "front"))

	if s, err := c.GetSecret(ctx, "token"); err != nil || s.ID != "k1aaa" {
		t.Fatalf("secret names resolve case-insensitively (swarmkit's name index): %v %v", s.ID, err)
	}
	_, err := c.GetSecret(ctx, "k1")
	wantErr(t, err, 400, "secret k1 is ambiguous (2 matches found)")
	if n, err := c.GetNetwork(ctx, "Back"); err != nil || n.ID != "n1aaa" {
		t.Fatalf("GetNetwork(Back) = %v, %v", n.ID, err)
	}
	_, err = c.GetNetwork(ctx, "back")
	wantErr(t, err, 404, "network back not found")
	_, err = c.GetNetwork(ctx, "n1")
	wantErr(t, err, 400, "network n1 is ambiguous (2 matches found)")
	if n, err := c.GetNetwork(ctx, "n1b"); err != nil || n.Name != "front" {
		t.Fatalf("GetNetwork(n1b) = %v, %v", n.Name, err)
	}
	_, err = c.GetConfig(ctx, "none")
	wantErr(t, err, 404, "config none not found")
}
