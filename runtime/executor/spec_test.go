package executor

import (
	"os"
	"strings"
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

func TestContainerSpecHostNetwork(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	img := &image.Image{ID: "sha256:abc"}
	predefined := func(name string) swarm.NetworkAttachment {
		var a swarm.NetworkAttachment
		a.Network.Spec.Name = name
		a.Network.Spec.Labels = map[string]string{"com.docker.swarm.predefined": "true"}
		return a
	}
	var overlay swarm.NetworkAttachment
	overlay.Network.Spec.Name = "host" // a user network may not take the name, but only the label counts
	tests := []struct {
		name     string
		atts     []swarm.NetworkAttachment
		hostname string
		netns    string
	}{
		{"no network", nil, "", ""},
		{"the predefined host network", []swarm.NetworkAttachment{predefined("host")}, "*", "host"},
		{"the host network with a hostname", []swarm.NetworkAttachment{predefined("host")}, "given", "host"},
		{"the predefined bridge network", []swarm.NetworkAttachment{predefined("bridge")}, "", ""},
		{"an unlabelled network", []swarm.NetworkAttachment{overlay}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := swarm.Task{Spec: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox"}}, NetworksAttachments: tt.atts}
			if tt.hostname == "given" {
				task.Spec.ContainerSpec.Hostname = "given"
			}
			s, err := containerSpec(task, "svc.1.x", id, img)
			if err != nil {
				t.Fatal(err)
			}
			if s.NetNS != tt.netns {
				t.Errorf("NetNS %q, want %q", s.NetNS, tt.netns)
			}
			switch tt.hostname {
			case "*":
				if h, _ := os.Hostname(); s.Hostname != h {
					t.Errorf("hostname %q, want the node's %q", s.Hostname, h)
				}
			default:
				if s.Hostname != tt.hostname {
					t.Errorf("hostname %q, want %q", s.Hostname, tt.hostname)
				}
			}
		})
	}
}

func TestConfigEnv(t *testing.T) {
	tests := []struct {
		image, task []string
		want        string
	}{
		{[]string{"PATH=/bin", "A=1"}, nil, "PATH=/bin A=1"},
		{[]string{"PATH=/bin", "A=1"}, []string{"B=2", "A=3"}, "B=2 A=3 PATH=/bin"},
		{[]string{"PATH=/bin"}, []string{"PATH=/usr/bin"}, "PATH=/usr/bin"},
	}
	for _, tt := range tests {
		if got := strings.Join(configEnv(tt.image, tt.task), " "); got != tt.want {
			t.Errorf("configEnv(%v, %v) = %q, want %q", tt.image, tt.task, got, tt.want)
		}
	}
}

func TestContainerSpecExposedPorts(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	img := &image.Image{ID: "sha256:abc"}
	img.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}, "53/udp": {}}
	task := swarm.Task{Spec: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox"}}}
	s, err := containerSpec(task, "svc.1.x", id, img)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.ExposedPorts, " "); got != "53/udp 80/tcp" {
		t.Errorf("ExposedPorts %q", got)
	}
}
