// Package prunefilter reads the filters that dockerd's prune endpoints share (until, label,
// label!), for the route layer and the backends that prune.
package prunefilter

import (
	"errors"
	"time"

	"github.com/docker/docker/api/types/filters"
	timetypes "github.com/docker/docker/api/types/time"
	"github.com/docker/docker/errdefs"
)

// Until reads the until filter: a timestamp, a date or a duration before now; zero when there is
// none. Its errors are errdefs.InvalidParameter.
func Until(f filters.Args, now time.Time) (time.Time, error) {
	values := f.Get("until")
	switch len(values) {
	case 0:
		return time.Time{}, nil
	case 1:
	default:
		return time.Time{}, errdefs.InvalidParameter(errors.New("more than one until filter specified"))
	}
	ts, err := timetypes.GetTimestamp(values[0], now)
	if err != nil {
		return time.Time{}, errdefs.InvalidParameter(err)
	}
	sec, nsec, err := timetypes.ParseTimestamps(ts, 0)
	if err != nil {
		return time.Time{}, errdefs.InvalidParameter(err)
	}
	return time.Unix(sec, nsec), nil
}

// MatchLabels applies the label and label! filters.
func MatchLabels(f filters.Args, labels map[string]string) bool {
	if !f.MatchKVList("label", labels) {
		return false
	}
	return !f.Contains("label!") || !f.MatchKVList("label!", labels)
}
