package server

import (
	"strconv"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/image"

	"github.com/shoal-project/shoal/runtime/container"
)

var imageListAll = image.ListOptions{All: true}

// containerEvent queues a runtime event; the runtime calls it from its own goroutines and it must
// not call back into the runtime, so publishContainerEvents does the rest.
func (e *engine) containerEvent(ev container.Event) {
	select {
	case e.containerEvents <- ev:
	default: // the event log is behind; GET /events is best-effort, as dockerd's is
	}
}

// publishContainerEvents publishes runtime events as Docker's container events, with the
// container's name and labels as attributes, until the channel closes.
func (e *engine) publishContainerEvents() {
	for ev := range e.containerEvents {
		attrs := map[string]string{}
		if c, err := e.parts.runtime.Get(ev.ID); err == nil {
			attrs["name"] = c.Name
			if c.Spec.Image != "" {
				attrs["image"] = c.Spec.Image
			}
			for k, v := range c.Spec.Labels {
				attrs[k] = v
			}
		}
		action := events.Action(ev.Action)
		switch ev.Action {
		case "die":
			attrs["exitCode"] = strconv.Itoa(ev.ExitCode)
		case "health_status":
			action = events.Action("health_status: " + string(ev.Health))
		}
		e.events.Publish(events.Message{Type: events.ContainerEventType, Action: action, Scope: "local",
			Actor: events.Actor{ID: ev.ID, Attributes: attrs}, Time: ev.Time.Unix(), TimeNano: ev.Time.UnixNano()})
	}
}
