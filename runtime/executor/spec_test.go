package executor

import (
	"testing"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/runtime/image"
)

func TestContainerSpecLogDriver(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	img := &image.Image{ID: "sha256:abc", LayerDirs: []string{"/l"}}
	tests := []struct {
		name   string
		driver *swarm.Driver
		want   containertypes.LogConfig
	}{
		{"none given: the daemon's default", nil, containertypes.LogConfig{}},
		{"json-file with options", &swarm.Driver{Name: "json-file", Options: map[string]string{"max-size": "1k", "max-file": "2"}},
			containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1k", "max-file": "2"}}},
		{"other drivers are passed on for the runtime to refuse", &swarm.Driver{Name: "journald"}, containertypes.LogConfig{Type: "journald"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := swarm.Task{Spec: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox", Command: []string{"true"}}, LogDriver: tt.driver}}
			s, err := containerSpec(task, "svc.1.x", id, img)
			if err != nil {
				t.Fatal(err)
			}
			if s.LogConfig.Type != tt.want.Type || len(s.LogConfig.Config) != len(tt.want.Config) {
				t.Fatalf("LogConfig %+v, want %+v", s.LogConfig, tt.want)
			}
			for k, v := range tt.want.Config {
				if s.LogConfig.Config[k] != v {
					t.Fatalf("LogConfig %+v, want %+v", s.LogConfig, tt.want)
				}
			}
		})
	}
}
