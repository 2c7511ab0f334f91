package events

import (
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

var actions = map[store.Action]events.Action{store.Create: events.ActionCreate, store.Update: events.ActionUpdate, store.Delete: events.ActionRemove}

// FromStore turns a store change into the swarm event dockerd would log for it, with the same
// attributes. Changes of kinds dockerd does not report (tasks, networks, the cluster) give false.
func FromStore(ev store.Event) (events.Message, bool) {
	var typ events.Type
	attrs := map[string]string{}
	switch o := ev.Object.(type) {
	case *store.Service:
		typ = events.ServiceEventType
		attrs["name"] = o.Spec.Name
		if old, ok := ev.Old.(*store.Service); ok && ev.Action == store.Update {
			serviceChanges(attrs, &o.Service, &old.Service)
		}
	case *store.Node:
		typ = events.NodeEventType
		attrs["name"] = o.Spec.Name
		if attrs["name"] == "" {
			attrs["name"] = o.Description.Hostname
		}
		if old, ok := ev.Old.(*store.Node); ok && ev.Action == store.Update {
			nodeChanges(attrs, &o.Node, &old.Node)
		}
	case *store.Secret:
		typ = events.SecretEventType
		attrs["name"] = o.Spec.Name
	case *store.Config:
		typ = events.ConfigEventType
		attrs["name"] = o.Spec.Name
	default:
		return events.Message{}, false
	}
	m := ev.Object.GetMeta()
	t := m.UpdatedAt
	switch ev.Action {
	case store.Create:
		t = m.CreatedAt
	case store.Delete:
		t = time.Now() // a removal has no time of its own in the object
	}
	return events.Message{Type: typ, Action: actions[ev.Action], Actor: events.Actor{ID: ev.Object.GetID(), Attributes: attrs},
		Scope: "swarm", Time: t.UTC().Unix(), TimeNano: t.UTC().UnixNano()}, true
}

func serviceChanges(attrs map[string]string, s, old *swarm.Service) {
	if a, b := imageOf(old), imageOf(s); a != b {
		attrs["image.old"], attrs["image.new"] = a, b
	}
	if s.Spec.Mode.Replicated != nil && old.Spec.Mode.Replicated != nil {
		r, o := replicas(s), replicas(old)
		if r != o {
			attrs["replicas.old"], attrs["replicas.new"] = strconv.FormatUint(o, 10), strconv.FormatUint(r, 10)
		}
	}
	if s.UpdateStatus != nil {
		if old.UpdateStatus == nil {
			attrs["updatestate.new"] = strings.ToLower(string(s.UpdateStatus.State))
		} else if s.UpdateStatus.State != old.UpdateStatus.State {
			attrs["updatestate.old"] = strings.ToLower(string(old.UpdateStatus.State))
			attrs["updatestate.new"] = strings.ToLower(string(s.UpdateStatus.State))
		}
	}
}

func imageOf(s *swarm.Service) string {
	if s.Spec.TaskTemplate.ContainerSpec == nil {
		return ""
	}
	return s.Spec.TaskTemplate.ContainerSpec.Image
}

func replicas(s *swarm.Service) uint64 {
	if s.Spec.Mode.Replicated.Replicas == nil {
		return 0
	}
	return *s.Spec.Mode.Replicated.Replicas
}

func nodeChanges(attrs map[string]string, n, old *swarm.Node) {
	if n.Spec.Availability != old.Spec.Availability {
		attrs["availability.old"], attrs["availability.new"] = string(old.Spec.Availability), string(n.Spec.Availability)
	}
	if n.Spec.Role != old.Spec.Role {
		attrs["role.old"], attrs["role.new"] = string(old.Spec.Role), string(n.Spec.Role)
	}
	if n.Status.State != old.Status.State {
		attrs["state.old"], attrs["state.new"] = string(old.Status.State), string(n.Status.State)
	}
	if n.ManagerStatus != nil && old.ManagerStatus != nil {
		if n.ManagerStatus.Leader != old.ManagerStatus.Leader {
			attrs["leader.old"], attrs["leader.new"] = strconv.FormatBool(old.ManagerStatus.Leader), strconv.FormatBool(n.ManagerStatus.Leader)
		}
		if n.ManagerStatus.Reachability != old.ManagerStatus.Reachability {
			attrs["reachability.old"], attrs["reachability.new"] = string(old.ManagerStatus.Reachability), string(n.ManagerStatus.Reachability)
		}
	}
}
