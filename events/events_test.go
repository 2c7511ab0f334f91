package events

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

func TestFromStoreService(t *testing.T) {
	one, three := uint64(1), uint64(3)
	old := &store.Service{}
	old.ID = "s1"
	old.Spec.Name = "web"
	old.Spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &one}
	old.Spec.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: "img:1"}
	cur := old.Copy()
	cur.Spec.Mode.Replicated.Replicas = &three
	cur.Spec.TaskTemplate.ContainerSpec.Image = "img:2"
	cur.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateUpdating}
	m, ok := FromStore(store.Event{Action: store.Update, Object: cur, Old: old})
	if !ok || m.Type != events.ServiceEventType || m.Action != events.ActionUpdate || m.Scope != "swarm" {
		t.Fatalf("message %+v", m)
	}
	want := map[string]string{"name": "web", "replicas.old": "1", "replicas.new": "3", "image.old": "img:1", "image.new": "img:2", "updatestate.new": "updating"}
	for k, v := range want {
		if m.Actor.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, m.Actor.Attributes[k], v)
		}
	}
	if _, ok := FromStore(store.Event{Action: store.Create, Object: &store.Task{}}); ok {
		t.Error("task changes are not swarm events")
	}
}

func TestLogSubscribe(t *testing.T) {
	l := New()
	l.Publish(events.Message{Action: "a"})
	ctx, cancel := context.WithCancel(context.Background())
	buf, ch, err := l.SubscribeEvents(ctx)
	if err != nil || len(buf) != 1 {
		t.Fatalf("buffered %v %v", buf, err)
	}
	l.Publish(events.Message{Action: "b"})
	select {
	case m := <-ch:
		if m.Action != "b" {
			t.Fatalf("live %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no live event")
	}
	cancel()
	select {
	case _, open := <-ch:
		if open {
			t.Fatal("event after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
}
