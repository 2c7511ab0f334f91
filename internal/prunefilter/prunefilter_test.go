package prunefilter

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/errdefs"
)

func TestUntil(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		args []string
		want time.Time
		err  string
	}{
		{nil, time.Time{}, ""},
		{[]string{"1h"}, now.Add(-time.Hour), ""},
		{[]string{"2026-11-25T00:00:00Z"}, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), ""},
		{[]string{"1h", "2h"}, time.Time{}, "more than one until filter specified"},
	}
	for _, c := range cases {
		f := filters.NewArgs()
		for _, a := range c.args {
			f.Add("until", a)
		}
		got, err := Until(f, now)
		if c.err != "" {
			if err == nil || err.Error() != c.err || !errdefs.IsInvalidParameter(err) {
				t.Errorf("%v: error %v, want invalid parameter %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%v: %v %v, want %v", c.args, got, err, c.want)
		}
	}
	if _, err := Until(filters.NewArgs(filters.Arg("until", "nonsense")), now); !errdefs.IsInvalidParameter(err) {
		t.Errorf("bad value: %v", err)
	}
}

func TestMatchLabels(t *testing.T) {
	labels := map[string]string{"a": "1", "b": ""}
	cases := []struct {
		f    filters.Args
		want bool
	}{
		{filters.NewArgs(), true},
		{filters.NewArgs(filters.Arg("label", "a=1")), true},
		{filters.NewArgs(filters.Arg("label", "a=2")), false},
		{filters.NewArgs(filters.Arg("label!", "b")), false},
		{filters.NewArgs(filters.Arg("label!", "c")), true},
	}
	for _, c := range cases {
		if got := MatchLabels(c.f, labels); got != c.want {
			t.Errorf("%v: %v, want %v", c.f, got, c.want)
		}
	}
}
