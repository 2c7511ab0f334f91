package server

import (
	"encoding/json"
	"testing"
)

func TestRegistryConfig(t *testing.T) {
	b, err := json.Marshal(registryConfig([]string{"10.1.0.0/16", "registry.local:5000", "127.0.0.0/8"}))
	if err != nil {
		t.Fatal(err)
	}
	// (the type's own marshaller orders the keys)
	want := `{"IndexConfigs":{"docker.io":{"Mirrors":[],"Name":"docker.io","Official":true,"Secure":true},"registry.local:5000":{"Mirrors":[],"Name":"registry.local:5000","Official":false,"Secure":false}},"InsecureRegistryCIDRs":["127.0.0.0/8","10.1.0.0/16"],"Mirrors":[]}`
	if string(b) != want {
		t.Errorf("registry config\n got %s\nwant %s", b, want)
	}
}
