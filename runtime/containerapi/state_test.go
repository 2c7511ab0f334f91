package containerapi

import (
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/shoal-project/shoal/runtime/container"
)

var t0 = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

func TestStatusText(t *testing.T) {
	health := func(s containertypes.HealthStatus) *containertypes.Health { return &containertypes.Health{Status: s} }
	tests := []struct {
		st   container.State
		want string
	}{
		{container.State{Status: container.StatusCreated}, "Created"},
		{container.State{Status: container.StatusRunning, StartedAt: t0.Add(-3 * time.Second)}, "Up 3 seconds"},
		{container.State{Status: container.StatusRunning, StartedAt: t0.Add(-500 * time.Millisecond)}, "Up Less than a second"},
		{container.State{Status: container.StatusRunning, StartedAt: t0.Add(-2 * time.Minute)}, "Up 2 minutes"},
		{container.State{Status: container.StatusRunning, StartedAt: t0.Add(-time.Hour), Health: health(containertypes.Starting)}, "Up About an hour (health: starting)"},
		{container.State{Status: container.StatusRunning, StartedAt: t0.Add(-time.Minute), Health: health(containertypes.Healthy)}, "Up About a minute (healthy)"},
		{container.State{Status: container.StatusRunning, StartedAt: t0, Health: health(containertypes.Unhealthy)}, "Up Less than a second (unhealthy)"},
		{container.State{Status: container.StatusExited, StartedAt: t0.Add(-time.Hour), FinishedAt: t0.Add(-2 * time.Minute), ExitCode: 137}, "Exited (137) 2 minutes ago"},
		{container.State{Status: container.StatusExited, StartedAt: t0.Add(-time.Hour)}, ""},
	}
	for _, tc := range tests {
		if got := statusText(tc.st, t0); got != tc.want {
			t.Errorf("statusText(%+v) = %q, want %q", tc.st, got, tc.want)
		}
	}
}

func TestCommandAndPath(t *testing.T) {
	tests := []struct {
		entrypoint, cmd []string
		want, path      string
	}{
		{nil, []string{"sleep", "10"}, "sleep 10", "sleep"},
		{[]string{"/sleeper"}, nil, "/sleeper", "/sleeper"},
		{nil, []string{"sh", "-c", "echo hi; sleep 1"}, "sh -c 'echo hi; sleep 1'", "sh"},
		{[]string{"/entry", "a b"}, []string{"c"}, "/entry 'a b' c", "/entry"},
	}
	for _, tc := range tests {
		s := container.Spec{Entrypoint: tc.entrypoint, Cmd: tc.cmd}
		if got := commandText(s); got != tc.want {
			t.Errorf("commandText(%v %v) = %q, want %q", tc.entrypoint, tc.cmd, got, tc.want)
		}
		if path, _ := pathAndArgs(s); path != tc.path {
			t.Errorf("path of %v %v = %q, want %q", tc.entrypoint, tc.cmd, path, tc.path)
		}
	}
}

func TestMountPoints(t *testing.T) {
	c := &container.Container{
		Spec: container.Spec{Mounts: []mount.Mount{
			{Type: mount.TypeBind, Source: "/srv/data", Target: "/data", ReadOnly: true},
			{Type: mount.TypeVolume, Source: "named", Target: "/v/"},
			{Type: mount.TypeVolume, Target: "/anon"},
			{Type: mount.TypeTmpfs, Target: "/scratch"},
		}},
		Volumes: map[string]string{"/v": "/var/lib/shoal/volumes/named/_data", "/anon": "/var/lib/shoal/volumes/0123abc/_data"},
	}
	got := mountPoints(c)
	want := []containertypes.MountPoint{
		{Type: mount.TypeBind, Source: "/srv/data", Destination: "/data", RW: false, Propagation: mount.PropagationRPrivate},
		{Type: mount.TypeVolume, Name: "named", Source: "/var/lib/shoal/volumes/named/_data", Destination: "/v/", Driver: "local", Mode: "z", RW: true},
		{Type: mount.TypeVolume, Name: "0123abc", Source: "/var/lib/shoal/volumes/0123abc/_data", Destination: "/anon", Driver: "local", Mode: "z", RW: true},
		{Type: mount.TypeTmpfs, Destination: "/scratch", RW: true},
	}
	if len(got) != len(want) {
		t.Fatalf("mountPoints = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mount %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestExtraHostsAndLowerDir(t *testing.T) {
	if got := extraHosts([]string{"10.0.0.1 db alias", "host.local:1.2.3.4"}); len(got) != 2 || got[0] != "db:10.0.0.1" || got[1] != "host.local:1.2.3.4" {
		t.Errorf("extraHosts = %q", got)
	}
	if got := lowerDir([]string{"/l/base", "/l/mid", "/l/top"}); got != "/l/top:/l/mid:/l/base" {
		t.Errorf("lowerDir = %q", got)
	}
}

// TestTaskFilesNotListed: the files of a task's secrets and configs are mounted but, as with
// dockerd, listed neither in Mounts nor in HostConfig.Mounts.
func TestTaskFilesNotListed(t *testing.T) {
	const task = "x8k2tq0mzv3b9c1d4e5f6g7h8"
	bind := func(src string, ro bool) mount.Mount {
		return mount.Mount{Type: mount.TypeBind, Source: src, Target: "/t", ReadOnly: ro}
	}
	tests := []struct {
		name   string
		labels map[string]string
		m      mount.Mount
		listed bool
	}{
		{"secret", map[string]string{taskIDLabel: task}, bind("/run/shoal/taskfiles/"+task+"/secret-0", true), false},
		{"config", map[string]string{taskIDLabel: task}, bind("/run/shoal/taskfiles/"+task+"/config-12", true), false},
		{"service bind mount", map[string]string{taskIDLabel: task}, bind("/srv/data", true), true},
		{"another task's file", map[string]string{taskIDLabel: task}, bind("/run/shoal/taskfiles/othertask/secret-0", true), true},
		{"not a task container", nil, bind("/run/shoal/taskfiles/"+task+"/secret-0", true), true},
		{"writable", map[string]string{taskIDLabel: task}, bind("/run/shoal/taskfiles/"+task+"/secret-0", false), true},
		{"other name", map[string]string{taskIDLabel: task}, bind("/run/shoal/taskfiles/"+task+"/secret-x", true), true},
		{"volume", map[string]string{taskIDLabel: task}, mount.Mount{Type: mount.TypeVolume, Source: "secret-0", Target: "/t"}, true},
	}
	for _, tt := range tests {
		c := &container.Container{Spec: container.Spec{Labels: tt.labels, Mounts: []mount.Mount{tt.m}}}
		if got := len(mountPoints(c)) == 1; got != tt.listed {
			t.Errorf("%s: listed in Mounts %v, want %v", tt.name, got, tt.listed)
		}
		if got := len(hostConfig(c.Spec).Mounts) == 1; got != tt.listed {
			t.Errorf("%s: listed in HostConfig.Mounts %v, want %v", tt.name, got, tt.listed)
		}
	}
}
