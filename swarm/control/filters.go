package control

import (
	"strings"

	"github.com/docker/docker/api/types/filters"
)

// The filter keys each list accepts (moby daemon/cluster); any other key is refused with
// "invalid filter '<key>'" (400) before anything else is done.
var (
	serviceFilterKeys = map[string]bool{"name": true, "id": true, "label": true, "mode": true, "runtime": true}
	taskFilterKeys    = map[string]bool{
		"name": true, "id": true, "label": true, "service": true, "node": true,
		"desired-state": true, "_up-to-date": true, "runtime": true,
	}
	secretFilterKeys  = map[string]bool{"names": true, "name": true, "id": true, "label": true}
	configFilterKeys  = map[string]bool{"name": true, "id": true, "label": true}
	networkFilterKeys = map[string]bool{
		"dangling": true, "driver": true, "id": true, "label": true, "name": true, "scope": true, "type": true,
		// idOrName is not a user filter: the network routes use it to find a network by name or ID.
		"idOrName": true,
	}
)

// hasPrefixIn reports whether s starts with one of prefixes; no prefixes match everything.
func hasPrefixIn(s string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// isIn reports whether s is one of values; no values match everything.
func isIn(s string, values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		if v == s {
			return true
		}
	}
	return false
}

// labelFilter is a label filter as swarmkit applies it: "key" requires the label, "key=value" requires
// that value (and "key=" any value). All of them must hold.
type labelFilter map[string]string

func newLabelFilter(values []string) labelFilter {
	m := make(labelFilter, len(values))
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		m[k] = val
	}
	return m
}

func (f labelFilter) match(labels map[string]string) bool {
	for k, v := range f {
		have, ok := labels[k]
		if !ok || (v != "" && v != have) {
			return false
		}
	}
	return true
}

// validateFilters checks the filter keys, the first thing every list does.
func validateFilters(f filters.Args, accepted map[string]bool) error {
	return f.Validate(accepted)
}
