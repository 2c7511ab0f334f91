package routes

import (
	"net/http"

	"github.com/docker/docker/api/types/filters"
)

// filterRule says which filter keys a list endpoint accepts and how to check their values. The keys are
// those of dockerd (daemon/cluster/filters.go, services.go, daemon/list.go, image_list.go,
// api/types/network); the routes validate them so that every backend receives only keys it knows.
// Values are the backends' business (role, membership, desired-state...), except for networks, whose
// local half the routes filter themselves.
type filterRule struct {
	keys   []string
	values map[string]func(v string) error // per-key value check
}

var (
	serviceFilters = filterRule{keys: []string{"name", "id", "label", "mode", "runtime"}}
	taskFilters    = filterRule{keys: []string{"name", "id", "label", "service", "node", "desired-state", "_up-to-date", "runtime"}}
	nodeFilters    = filterRule{keys: []string{"name", "id", "label", "node.label", "role", "membership"}}
	secretFilters  = filterRule{keys: []string{"names", "name", "id", "label"}}
	configFilters  = filterRule{keys: []string{"name", "id", "label"}}
	networkFilters = filterRule{
		keys: []string{"dangling", "driver", "id", "label", "name", "scope", "type"},
		values: map[string]func(string) error{
			"dangling": danglingValue,
			"type":     networkTypeValue,
		},
	}
	networkPruneFilters = filterRule{keys: []string{"label", "label!", "until"}}
	containerFilters    = filterRule{keys: []string{"ancestor", "before", "exited", "id", "isolation", "label",
		"name", "status", "health", "since", "volume", "network", "is-task", "publish", "expose"}}
	imageFilters = filterRule{keys: []string{"dangling", "label", "before", "since", "reference", "until"}}
	// eventFilters accepts any key, as dockerd: unknown keys match nothing in particular.
	eventFilters = filterRule{}
)

// parseFilters reads ?filters= (the map form {"k":{"v":true}} or the legacy {"k":["v"]}) and
// validates it against rule: an unknown key is 400 "invalid filter 'k'".
func parseFilters(r *http.Request, rule filterRule) (filters.Args, error) {
	f, err := filters.FromJSON(r.Form.Get("filters"))
	if err != nil {
		return f, err
	}
	return f, rule.validate(f)
}

func (rule filterRule) validate(f filters.Args) error {
	if rule.keys != nil {
		accepted := make(map[string]bool, len(rule.keys))
		for _, k := range rule.keys {
			accepted[k] = true
		}
		if err := f.Validate(accepted); err != nil {
			return err
		}
	}
	for _, k := range rule.keys {
		check := rule.values[k]
		if check == nil {
			continue
		}
		for _, v := range f.Get(k) {
			if err := check(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func danglingValue(v string) error {
	switch v {
	case "0", "false", "1", "true":
		return nil
	}
	return invalidParam(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`)
}

func networkTypeValue(v string) error {
	if v == "builtin" || v == "custom" {
		return nil
	}
	return plainError("invalid filter: 'type'='%s'", v)
}
