package containerapi

import (
	"strings"
	"testing"
	"time"

	containertypes "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/runtime/container"
)

// listFixture: four containers, oldest first: a running task of web, an exited task of web, a
// plain running container with a health check, a created one.
func listFixture() []*container.Container {
	mk := func(id, name string, created int, status string, code int, labels map[string]string) *container.Container {
		c := &container.Container{ID: strings.Repeat(id, 64/len(id)), Name: name, Created: t0.Add(time.Duration(created) * time.Second)}
		c.Spec.Labels = labels
		c.Spec.ImageID = "sha256:" + strings.Repeat("1", 64)
		c.State.Status = status
		if status != container.StatusCreated {
			c.State.StartedAt = c.Created
		}
		if status == container.StatusExited {
			c.State.FinishedAt = c.Created.Add(time.Second)
			c.State.ExitCode = code
		}
		return c
	}
	task := func(svc string) map[string]string {
		return map[string]string{"com.docker.swarm.service.name": svc, "com.docker.swarm.task.id": "t", "com.docker.swarm.task": ""}
	}
	hc := mk("c", "plain", 3, container.StatusRunning, 0, map[string]string{"tier": "front"})
	hc.State.Health = &containertypes.Health{Status: containertypes.Healthy}
	return []*container.Container{
		mk("a", "web.1.aaa", 1, container.StatusRunning, 0, task("web")),
		mk("b", "web.2.bbb", 2, container.StatusExited, 137, task("web")),
		hc,
		mk("d", "fresh", 4, container.StatusCreated, 0, nil),
	}
}

func TestListFilter(t *testing.T) {
	all := listFixture()
	args := func(kv ...string) filters.Args {
		f := filters.NewArgs()
		for i := 0; i+1 < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		return f
	}
	tests := []struct {
		name string
		opts containertypes.ListOptions
		want string // first letters of the IDs, in order
	}{
		{"running only", containertypes.ListOptions{}, "ca"},
		{"all, newest first", containertypes.ListOptions{All: true}, "dcba"},
		{"limit includes stopped", containertypes.ListOptions{Limit: 2}, "dc"},
		{"label key=value", containertypes.ListOptions{All: true, Filters: args("label", "com.docker.swarm.service.name=web")}, "ba"},
		{"label key", containertypes.ListOptions{Filters: args("label", "tier")}, "c"},
		{"name is a pattern", containertypes.ListOptions{All: true, Filters: args("name", "web")}, "ba"},
		{"name with slash", containertypes.ListOptions{All: true, Filters: args("name", "/fresh")}, "d"},
		{"id prefix", containertypes.ListOptions{All: true, Filters: args("id", "bbbb")}, "b"},
		{"status implies all", containertypes.ListOptions{Filters: args("status", "exited")}, "b"},
		{"status created", containertypes.ListOptions{Filters: args("status", "created")}, "d"},
		{"exited code", containertypes.ListOptions{All: true, Filters: args("exited", "137")}, "b"},
		{"exited other code", containertypes.ListOptions{All: true, Filters: args("exited", "0")}, ""},
		{"health", containertypes.ListOptions{Filters: args("health", "healthy")}, "c"},
		{"no health check", containertypes.ListOptions{All: true, Filters: args("health", "none")}, "dba"},
		{"is-task", containertypes.ListOptions{All: true, Filters: args("is-task", "true")}, "ba"},
		{"is not a task", containertypes.ListOptions{All: true, Filters: args("is-task", "false")}, "dc"},
		{"before", containertypes.ListOptions{All: true, Filters: args("before", "plain")}, "ba"},
		{"since", containertypes.ListOptions{All: true, Filters: args("since", "bbbb")}, "dc"},
		{"legacy since parameter", containertypes.ListOptions{All: true, Since: "web.2.bbb"}, "dc"},
		{"network matches nothing yet", containertypes.ListOptions{All: true, Filters: args("network", "bridge")}, ""},
	}
	for _, tc := range tests {
		lf, err := newListFilter(tc.opts, all)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := ""
		for _, c := range lf.selectContainers(all) {
			got += c.ID[:1]
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestListFilterErrors(t *testing.T) {
	all := listFixture()
	tests := []struct {
		key, value string
		want       string
		invalid    bool
	}{
		{"status", "sleeping", "invalid filter 'status=sleeping': invalid value for state (sleeping): must be one of created, running, paused, restarting, removing, exited, dead", true},
		{"health", "sick", "invalid filter 'health=sick': invalid value for health (sick): must be one of none, starting, healthy, unhealthy", true},
		{"exited", "x", `invalid filter 'exited=x': strconv.Atoi: parsing "x": invalid syntax`, true},
		{"before", "nope", "No such container: nope", false},
		{"publish", "80:80", "filter for 'publish' should not contain ':': 80:80", false},
	}
	for _, tc := range tests {
		_, err := newListFilter(containertypes.ListOptions{Filters: filters.NewArgs(filters.Arg(tc.key, tc.value))}, all)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s=%s: %v, want %q", tc.key, tc.value, err, tc.want)
			continue
		}
		if tc.invalid && !errdefs.IsInvalidParameter(err) {
			t.Errorf("%s=%s: error class %T, want invalid parameter", tc.key, tc.value, err)
		}
	}
}

func TestSummary(t *testing.T) {
	c := listFixture()[1]
	c.Spec.Image = "reg/busybox:1"
	c.Spec.Cmd = []string{"sh", "-c", "exit 137"}
	s := summary(c, c.State.FinishedAt.Add(2*time.Minute))
	if s.ID != c.ID || len(s.Names) != 1 || s.Names[0] != "/web.2.bbb" || s.Image != "reg/busybox:1" ||
		s.Command != "sh -c 'exit 137'" || s.Created != c.Created.Unix() || s.State != containertypes.StateExited ||
		s.Status != "Exited (137) 2 minutes ago" || s.HostConfig.NetworkMode != "default" ||
		s.Ports == nil || s.Mounts == nil || s.NetworkSettings == nil || s.NetworkSettings.Networks == nil ||
		s.Labels["com.docker.swarm.service.name"] != "web" {
		t.Errorf("summary = %+v", s)
	}
}
