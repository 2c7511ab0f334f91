package server

import (
	"maps"
	"strconv"
	"strings"

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

// publishContainerEvents publishes runtime events as Docker's container events until the
// channel closes.
func (e *engine) publishContainerEvents() {
	for ev := range e.containerEvents {
		e.events.Publish(containerMessage(ev))
	}
}

// containerMessage is the container event dockerd logs for a runtime event: its action text,
// the container's labels, image and name as attributes with the action's own ones (signal,
// exitCode, execID...), and the legacy status, id and from fields moby 28 still fills in.
func containerMessage(ev container.Event) events.Message {
	attrs := maps.Clone(ev.Labels)
	if attrs == nil {
		attrs = map[string]string{}
	}
	if ev.Image != "" {
		attrs["image"] = ev.Image
	}
	attrs["name"] = strings.TrimPrefix(ev.Name, "/")
	action := events.Action(ev.Action)
	switch ev.Action {
	case "kill":
		attrs["signal"] = strconv.Itoa(ev.Signal)
	case "die":
		attrs["exitCode"] = strconv.Itoa(ev.ExitCode)
		attrs["execDuration"] = strconv.Itoa(int(ev.ExecDuration.Seconds()))
	case "health_status":
		action = events.Action("health_status: " + string(ev.Health))
	case "exec_create", "exec_start":
		attrs["execID"] = ev.ExecID
		action = events.Action(ev.Action + ": " + execCommand(ev.ExecCmd))
	case "exec_die":
		attrs["execID"] = ev.ExecID
		attrs["exitCode"] = strconv.Itoa(ev.ExitCode)
	}
	t := ev.Time.UTC()
	return events.Message{
		Status: string(action), ID: ev.ID, From: attrs["image"], //nolint:staticcheck // set as moby 28 sets them
		Type: events.ContainerEventType, Action: action, Scope: "local",
		Actor: events.Actor{ID: ev.ID, Attributes: attrs}, Time: t.Unix(), TimeNano: t.UnixNano()}
}

// execCommand is an exec's command as dockerd writes it in its action: the entrypoint, a space
// and the arguments ("true " for a command without any).
func execCommand(cmd []string) string {
	if len(cmd) == 0 {
		return " "
	}
	return cmd[0] + " " + strings.Join(cmd[1:], " ")
}
