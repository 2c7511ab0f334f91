package control

import (
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/swarm/store"
)

// Name and ID resolution, in Docker's order: the full ID, then the exact name, then a unique ID
// prefix. No match is "<kind> <ref> not found" (404); several ID-prefix matches are "<kind> <ref> is
// ambiguous (N matches found)" (400). All resolvers work in a read or a write transaction.

func byIDPrefix[T any](tx store.ReadTx, kind store.Kind, prefix string) []*T {
	objs := tx.FindByIDPrefix(kind, prefix)
	out := make([]*T, 0, len(objs))
	for _, o := range objs {
		out = append(out, any(o).(*T))
	}
	return out
}

func pickOne[T any](kind, ref string, matches []*T) (*T, error) {
	switch len(matches) {
	case 0:
		return nil, notFound(kind, ref)
	case 1:
		return matches[0], nil
	}
	return nil, ambiguous(kind, ref, len(matches))
}

// resolveService finds a service by ID, exact (case-sensitive) name or ID prefix. A removed service
// whose tasks are still shutting down (PendingDelete) is gone for users.
func resolveService(tx store.ReadTx, ref string) (*store.Service, error) {
	if s := tx.GetService(ref); s != nil && !s.PendingDelete {
		return s, nil
	}
	if s := tx.FindServiceByName(ref); s != nil && s.Spec.Name == ref {
		return s, nil
	}
	var live []*store.Service
	for _, s := range byIDPrefix[store.Service](tx, store.KindService, ref) {
		if !s.PendingDelete {
			live = append(live, s)
		}
	}
	return pickOne("service", ref, live)
}

// resolveTask finds a task by ID, name ("<service>.<slot|node>.<id>") or ID prefix.
func resolveTask(tx store.ReadTx, ref string) (*store.Task, error) {
	if t := tx.GetTask(ref); t != nil {
		return t, nil
	}
	if i := strings.LastIndexByte(ref, '.'); i >= 0 {
		if t := tx.GetTask(ref[i+1:]); t != nil && taskName(tx, t) == ref {
			return t, nil
		}
	}
	return pickOne("task", ref, byIDPrefix[store.Task](tx, store.KindTask, ref))
}

// taskName is the name Docker gives a task: its own name if it has one, else
// "<service>.<slot>.<id>" ("<service>.<node>.<id>" for global services).
func taskName(tx store.ReadTx, t *store.Task) string {
	if t.Name != "" {
		return t.Name
	}
	svc := t.ServiceName
	if svc == "" {
		if s := tx.GetService(t.ServiceID); s != nil {
			svc = s.Spec.Name
		}
	}
	slot := t.NodeID
	if t.Slot != 0 {
		slot = strconv.Itoa(t.Slot)
	}
	return svc + "." + slot + "." + t.ID
}

// resolveSecret finds a secret by ID, name (case-insensitive, as swarmkit's name index) or ID prefix.
func resolveSecret(tx store.ReadTx, ref string) (*store.Secret, error) {
	if s := tx.GetSecret(ref); s != nil {
		return s, nil
	}
	if s := tx.FindSecretByName(ref); s != nil {
		return s, nil
	}
	return pickOne("secret", ref, byIDPrefix[store.Secret](tx, store.KindSecret, ref))
}

// resolveConfig finds a config by ID, name (case-insensitive) or ID prefix.
func resolveConfig(tx store.ReadTx, ref string) (*store.Config, error) {
	if c := tx.GetConfig(ref); c != nil {
		return c, nil
	}
	if c := tx.FindConfigByName(ref); c != nil {
		return c, nil
	}
	return pickOne("config", ref, byIDPrefix[store.Config](tx, store.KindConfig, ref))
}

// resolveNetwork finds a swarm network by ID, exact name or ID prefix.
func resolveNetwork(tx store.ReadTx, ref string) (*store.Network, error) {
	if n := tx.GetNetwork(ref); n != nil {
		return n, nil
	}
	if n := tx.FindNetworkByName(ref); n != nil && n.Spec.Name == ref {
		return n, nil
	}
	return pickOne("network", ref, byIDPrefix[store.Network](tx, store.KindNetwork, ref))
}

// liveServices lists the services users see: not those being removed.
func liveServices(tx store.ReadTx) []*store.Service {
	var out []*store.Service
	for _, s := range tx.ListServices() {
		if !s.PendingDelete {
			out = append(out, s)
		}
	}
	return out
}
