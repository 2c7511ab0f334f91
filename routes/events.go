package routes

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	timetypes "github.com/docker/docker/api/types/time"
	"github.com/docker/docker/api/types/versions"
)

// getEvents streams GET /events: the buffered events within since/until, then live events until
// until passes or the client leaves. One JSON object per line.
func (s *server) getEvents(w http.ResponseWriter, r *http.Request) error {
	since, err := eventTime(r.Form.Get("since"))
	if err != nil {
		return err
	}
	until, err := eventTime(r.Form.Get("until"))
	if err != nil {
		return err
	}
	var timeout <-chan time.Time
	onlyPast := false
	if !until.IsZero() {
		if until.Before(since) {
			return invalidParam("`since` time (%s) cannot be after `until` time (%s)", r.Form.Get("since"), r.Form.Get("until"))
		}
		now := s.Now()
		onlyPast = until.Before(now)
		if !onlyPast {
			t := time.NewTimer(until.Sub(now))
			defer t.Stop()
			timeout = t.C
		}
	}
	f, err := parseFilters(r, eventFilters)
	if err != nil {
		return err
	}

	ctx := r.Context()
	buffered, live, err := s.Events.SubscribeEvents(ctx)
	if err != nil {
		return err
	}
	skipImageCreate := versions.LessThan(s.apiVersion(r), "1.46") // image create events are new in 1.46
	include := func(ev events.Message) bool {
		return eventIncluded(f, ev) && !(skipImageCreate && ev.Type == events.ImageEventType && ev.Action == events.ActionCreate)
	}

	w.Header().Set("Content-Type", "application/json")
	fw := newFlushWriter(w)
	fw.start()
	enc := json.NewEncoder(fw)
	for _, ev := range bufferedEvents(buffered, since, until) {
		if include(ev) {
			if enc.Encode(ev) != nil {
				return nil
			}
		}
	}
	if onlyPast {
		return nil
	}
	for {
		select {
		case ev, ok := <-live:
			if !ok {
				return nil
			}
			if include(ev) {
				if enc.Encode(ev) != nil {
					return nil
				}
			}
		case <-timeout:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// eventTime parses since/until: unix seconds with optional fractional nanoseconds (the CLI converts
// durations and dates before sending). Zero time when absent.
func eventTime(v string) (time.Time, error) {
	sec, nsec, err := timetypes.ParseTimestamps(v, -1)
	if err != nil {
		return time.Time{}, err
	}
	if sec == -1 {
		return time.Time{}, nil
	}
	return time.Unix(sec, nsec), nil
}

// bufferedEvents selects the past events a subscriber gets, as dockerd: none unless since or until is
// set; else those not before since and not after until.
func bufferedEvents(all []events.Message, since, until time.Time) []events.Message {
	if since.IsZero() && until.IsZero() {
		return nil
	}
	var out []events.Message
	for _, ev := range all {
		if !since.IsZero() && ev.TimeNano < since.UnixNano() {
			continue
		}
		if !until.IsZero() && ev.TimeNano > until.UnixNano() {
			continue
		}
		out = append(out, ev)
	}
	return out
}

// eventIncluded reports whether ev passes the filters, with dockerd's rules (daemon/events/filter.go):
// type, event and scope match exactly; object filters (container, service, node...) match the actor's
// ID or name attribute fuzzily; image also matches the container's image; label matches attributes.
func eventIncluded(f filters.Args, ev events.Message) bool {
	return matchEventAction(f, ev) &&
		f.ExactMatch("type", string(ev.Type)) &&
		(!f.Contains("scope") || f.ExactMatch("scope", ev.Scope)) &&
		fuzzyName(f, ev, events.DaemonEventType) &&
		fuzzyName(f, ev, events.ContainerEventType) &&
		fuzzyName(f, ev, events.PluginEventType) &&
		fuzzyName(f, ev, events.VolumeEventType) &&
		fuzzyName(f, ev, events.NetworkEventType) &&
		matchEventImage(f, ev) &&
		fuzzyName(f, ev, events.NodeEventType) &&
		fuzzyName(f, ev, events.ServiceEventType) &&
		fuzzyName(f, ev, events.SecretEventType) &&
		fuzzyName(f, ev, events.ConfigEventType) &&
		(!f.Contains("label") || f.MatchKVList("label", ev.Actor.Attributes))
}

func matchEventAction(f filters.Args, ev events.Message) bool {
	// "health_status", "exec_create" and "exec_start" match their "name: detail" actions too.
	for _, v := range f.Get("event") {
		if v == "health_status" || v == "exec_create" || v == "exec_start" {
			return f.FuzzyMatch("event", string(ev.Action))
		}
	}
	return f.ExactMatch("event", string(ev.Action))
}

func fuzzyName(f filters.Args, ev events.Message, t events.Type) bool {
	return f.FuzzyMatch(string(t), ev.Actor.ID) || f.FuzzyMatch(string(t), ev.Actor.Attributes["name"])
}

func matchEventImage(f filters.Args, ev events.Message) bool {
	attr := "image"
	if ev.Type == events.ImageEventType {
		attr = "name"
	}
	id, name := ev.Actor.ID, ev.Actor.Attributes[attr]
	return f.ExactMatch("image", id) || f.ExactMatch("image", name) ||
		f.ExactMatch("image", stripTag(id)) || f.ExactMatch("image", stripTag(name))
}

func stripTag(image string) string {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return image
	}
	return reference.FamiliarName(ref)
}
