package routes

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
)

// quote is a JSON string literal as the server writes it (no HTML escaping).
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func TestParseFilters(t *testing.T) {
	tests := []struct {
		name    string
		rule    filterRule
		raw     string
		key     string
		want    []string // sorted values of key
		wantErr string
		status  int
	}{
		{name: "none", rule: serviceFilters, raw: "", key: "name"},
		{name: "map form", rule: serviceFilters, raw: `{"name":{"web":true,"db":true}}`, key: "name", want: []string{"db", "web"}},
		{name: "legacy list form", rule: secretFilters, raw: `{"name":["dockerpytest_"]}`, key: "name", want: []string{"dockerpytest_"}},
		{name: "bad json", rule: serviceFilters, raw: `{"name":`, wantErr: "invalid filter", status: 400},
		{name: "unknown service key", rule: serviceFilters, raw: `{"node":{"x":true}}`, wantErr: "invalid filter 'node'", status: 400},
		{name: "internal task key", rule: taskFilters, raw: `{"_up-to-date":{"true":true},"service":{"abc":true}}`, key: "_up-to-date", want: []string{"true"}},
		{name: "unknown task key", rule: taskFilters, raw: `{"mode":{"x":true}}`, wantErr: "invalid filter 'mode'", status: 400},
		{name: "desired-state value is the backend's", rule: taskFilters, raw: `{"desired-state":{"Running":true}}`, key: "desired-state", want: []string{"Running"}},
		{name: "node keys", rule: nodeFilters, raw: `{"role":{"manager":true},"membership":{"accepted":true},"node.label":{"a":true}}`, key: "role", want: []string{"manager"}},
		{name: "unknown node key", rule: nodeFilters, raw: `{"service":{"x":true}}`, wantErr: "invalid filter 'service'", status: 400},
		{name: "secret names", rule: secretFilters, raw: `{"names":{"a":true}}`, key: "names", want: []string{"a"}},
		{name: "config names is not a key", rule: configFilters, raw: `{"names":{"a":true}}`, wantErr: "invalid filter 'names'", status: 400},
		{name: "network dangling bad", rule: networkFilters, raw: `{"dangling":{"maybe":true}}`,
			wantErr: `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`, status: 400},
		{name: "network type bad", rule: networkFilters, raw: `{"type":{"weird":true}}`, wantErr: "invalid filter: 'type'='weird'", status: 500},
		{name: "network unknown", rule: networkFilters, raw: `{"node":{"x":true}}`, wantErr: "invalid filter 'node'", status: 400},
		{name: "container key", rule: containerFilters, raw: `{"label":{"com.docker.swarm.service.name=web":true}}`, key: "label", want: []string{"com.docker.swarm.service.name=web"}},
		{name: "container unknown", rule: containerFilters, raw: `{"service":{"x":true}}`, wantErr: "invalid filter 'service'", status: 400},
		{name: "image unknown", rule: imageFilters, raw: `{"name":{"x":true}}`, wantErr: "invalid filter 'name'", status: 400},
		{name: "events accept anything", rule: eventFilters, raw: `{"whatever":{"x":true}}`, key: "whatever", want: []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x?filters="+url.QueryEscape(tt.raw), nil)
			_ = parseForm(r)
			f, err := parseFilters(r, tt.rule)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || statusFromError(err) != tt.status {
					t.Fatalf("error %v (status %d), want %q (%d)", err, statusFromError(err), tt.wantErr, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := f.Get(tt.key)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func TestFilterNetworks(t *testing.T) {
	nws := []network.Inspect{
		{ID: "b1", Name: "bridge", Driver: "bridge", Scope: "local"},
		{ID: "h2", Name: "host", Driver: "host", Scope: "local"},
		{ID: "ov1", Name: "front", Driver: "overlay", Scope: "swarm", Labels: map[string]string{"stack": "a"},
			Services: map[string]network.ServiceInfo{"web": {}}},
		{ID: "ov2", Name: "back", Driver: "overlay", Scope: "swarm", Labels: map[string]string{"stack": "b"}},
	}
	tests := []struct {
		args    filters.Args
		want    []string
		wantErr bool
	}{
		{filters.NewArgs(), []string{"bridge", "host", "front", "back"}, false},
		{filters.NewArgs(filters.Arg("driver", "overlay")), []string{"front", "back"}, false},
		{filters.NewArgs(filters.Arg("driver", "over")), nil, false},
		{filters.NewArgs(filters.Arg("name", "ro")), []string{"front"}, false},
		{filters.NewArgs(filters.Arg("id", "ov")), []string{"front", "back"}, false},
		{filters.NewArgs(filters.Arg("scope", "swarm"), filters.Arg("label", "stack=b")), []string{"back"}, false},
		{filters.NewArgs(filters.Arg("label", "stack")), []string{"front", "back"}, false},
		{filters.NewArgs(filters.Arg("dangling", "true")), []string{"back"}, false},
		{filters.NewArgs(filters.Arg("dangling", "0")), []string{"bridge", "host", "front"}, false},
		{filters.NewArgs(filters.Arg("dangling", "1"), filters.Arg("dangling", "0")), nil, true},
		{filters.NewArgs(filters.Arg("type", "builtin")), []string{"bridge", "host"}, false},
		{filters.NewArgs(filters.Arg("type", "custom"), filters.Arg("driver", "overlay")), []string{"front", "back"}, false},
	}
	for _, tt := range tests {
		got, err := filterNetworks(slices.Clone(nws), tt.args)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%v: error %v", tt.args, err)
		}
		var names []string
		for _, nw := range got {
			names = append(names, nw.Name)
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("%v: %v, want %v", tt.args, names, tt.want)
		}
	}
}

// TestFilterErrorsOverHTTP proves the rules reach every list endpoint.
func TestFilterErrorsOverHTTP(t *testing.T) {
	env := startEnv(t)
	bad := url.QueryEscape(`{"bogus":{"x":true}}`)
	for _, path := range []string{"/services", "/tasks", "/nodes", "/secrets", "/configs", "/networks", "/containers/json", "/images/json"} {
		resp, body := env.do(t, "GET", "/v1.47"+path+"?filters="+bad, "", "")
		if resp.StatusCode != 400 || body != `{"message":"invalid filter 'bogus'"}`+"\n" {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	// The legacy list form (docker-py) reaches the backend like the map form (CLI).
	for _, raw := range []string{`{"name":["web"]}`, `{"name":{"web":true}}`} {
		env.do(t, "GET", "/v1.47/services?filters="+url.QueryEscape(raw), "", "")
		if got := env.cluster.last.serviceOpts.Filters.Get("name"); !slices.Equal(got, []string{"web"}) {
			t.Errorf("%s: backend got %v", raw, got)
		}
	}
}
