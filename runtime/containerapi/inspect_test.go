package containerapi

import (
	"encoding/json"
	"testing"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/shoal-project/shoal/runtime/container"
)

func TestInspectLogConfig(t *testing.T) {
	tests := []struct {
		name string
		in   containertypes.LogConfig
		want string
	}{
		{"default", containertypes.LogConfig{}, `{"Type":"json-file","Config":{}}`},
		{"json-file with options", containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1k", "max-file": "2"}},
			`{"Type":"json-file","Config":{"max-file":"2","max-size":"1k"}}`},
		{"options without a type", containertypes.LogConfig{Config: map[string]string{"max-size": "10m"}}, `{"Type":"json-file","Config":{"max-size":"10m"}}`},
		{"none", containertypes.LogConfig{Type: "none"}, `{"Type":"none","Config":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := hostConfig(container.Spec{LogConfig: tt.in})
			b, err := json.Marshal(hc.LogConfig)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("LogConfig %s, want %s", b, tt.want)
			}
		})
	}
}

func TestInspectHostConfigDefaults(t *testing.T) {
	hc := hostConfig(container.Spec{})
	if hc.Isolation != "default" || hc.OomKillDisable == nil || *hc.OomKillDisable {
		t.Errorf("Isolation %q OomKillDisable %v: want the swarm executor's default and false", hc.Isolation, hc.OomKillDisable)
	}
	if hc.NetworkMode != "default" {
		t.Errorf("NetworkMode %q", hc.NetworkMode)
	}
	if hc := hostConfig(container.Spec{NetNS: "host"}); hc.NetworkMode != "host" {
		t.Errorf("host network: NetworkMode %q", hc.NetworkMode)
	}
}
