package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestServiceTemplates: Go templates in a service's hostname and env are expanded on the node
// before the container is made; templated configs and secrets (--template-driver golang) are
// expanded when the task's files are written; an unknown template driver and a bad template fail
// the task with swarmkit's errors.
func TestServiceTemplates(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	busybox := imgs["busybox:1"]
	nodeHost := d.MustDocker(t, "node", "inspect", "self", "--format", "{{.Description.Hostname}}")
	nodeID := d.MustDocker(t, "node", "inspect", "self", "--format", "{{.ID}}")

	// Hostname and env.
	d.MustDocker(t, "service", "create", "-d", "--name", "perm", "--hostname", "{{.Node.Hostname}}-{{.Task.Slot}}",
		"--env", "SVC={{.Service.Name}}", "--env", "WHERE={{.Node.ID}}/{{.Task.Name}}", "--env", "PLAIN=x", busybox, "sleep", "1000")
	c := waitContainers(t, d, "perm", 1)[0]
	if got := d.MustDocker(t, "exec", c, "hostname"); got != nodeHost+"-1" {
		t.Errorf("hostname in the container: %q, want %q", got, nodeHost+"-1")
	}
	if got := d.MustDocker(t, "inspect", "--format", "{{.Config.Hostname}}", c); got != nodeHost+"-1" {
		t.Errorf("inspect Config.Hostname: %q", got)
	}
	taskName := strings.TrimPrefix(d.MustDocker(t, "inspect", "--format", "{{.Name}}", c), "/")
	env := strings.Split(d.MustDocker(t, "exec", c, "env"), "\n")
	for _, want := range []string{"SVC=perm", "WHERE=" + nodeID + "/" + taskName, "PLAIN=x"} {
		if !slices.Contains(env, want) {
			t.Errorf("env in the container lacks %q:\n%s", want, strings.Join(env, "\n"))
		}
	}
	// the service keeps its templates
	if got := d.MustDocker(t, "service", "inspect", "perm", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Hostname}}"); got != "{{.Node.Hostname}}-{{.Task.Slot}}" {
		t.Errorf("service spec hostname: %q", got)
	}

	// Templated config and secret; a plain secret they include.
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	d.MustDocker(t, "config", "create", "--template-driver", "golang", "c1", write("c1", `svc={{ .Service.Name }} env={{ env "X" }} slot={{.Task.Slot}}`))
	d.MustDocker(t, "secret", "create", "plain", write("plain", "p4ss"))
	d.MustDocker(t, "secret", "create", "--template-driver", "golang", "s1", write("s1", `pw={{ secret "plain" }} cfg={{ config "/c1" }} svc={{.Service.Name}}`))
	d.MustDocker(t, "config", "create", "raw", write("raw", "raw={{.Service.Name}}"))
	if got := d.MustDocker(t, "config", "inspect", "c1", "--format", "{{json .Spec.Templating}}"); got != `{"Name":"golang"}` {
		t.Errorf("config inspect Templating: %s", got)
	}
	d.MustDocker(t, "service", "create", "-d", "--name", "tplsvc", "--env", "X=42",
		"--config", "src=c1,target=/c1", "--config", "src=raw,target=/raw", "--secret", "plain", "--secret", "s1",
		busybox, "sleep", "1000")
	tc := waitContainers(t, d, "tplsvc", 1)[0]
	for file, want := range map[string]string{
		"/c1":                "svc=tplsvc env=42 slot=1",
		"/raw":               "raw={{.Service.Name}}",
		"/run/secrets/plain": "p4ss",
		"/run/secrets/s1":    `pw=p4ss cfg=svc={{ .Service.Name }} env={{ env "X" }} slot={{.Task.Slot}} svc=tplsvc`,
	} {
		if got := d.MustDocker(t, "exec", tc, "cat", file); got != want {
			t.Errorf("cat %s: %q, want %q", file, got, want)
		}
	}

	// An unknown template driver fails the task when it starts.
	d.MustDocker(t, "config", "create", "--template-driver", "foo", "cbad", write("cbad", "x"))
	cbad := d.MustDocker(t, "config", "inspect", "cbad", "--format", "{{.ID}}")
	d.MustDocker(t, "service", "create", "-d", "--name", "bad", "--restart-condition", "none",
		"--config", "src=cbad,target=/x", busybox, "sleep", "1000")
	want := "starting container failed: unable to get config from config store: failed to expand templated config " + cbad + ": unrecognized template type"
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "bad", "--no-trunc", "--format", "{{.CurrentState}}|{{.Error}}")
		first := strings.Split(ps, "\n")[0]
		return strings.HasPrefix(first, "Failed") && strings.HasSuffix(first, `|"`+want+`"`), ps
	})

	// A bad template in the container spec rejects the task.
	d.MustDocker(t, "service", "create", "-d", "--name", "badhost", "--restart-condition", "none",
		"--hostname", "{{.Nope}}", busybox, "sleep", "1000")
	wantHost := `Rejected|expanding hostname failed: template: expansion:1:2: executing "expansion" at <.Nope>: can't evaluate field Nope in type *template.Context`
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ids := strings.Fields(d.MustDocker(t, "service", "ps", "badhost", "-q", "--no-trunc"))
		if len(ids) == 0 {
			return false, "no task"
		}
		got := d.MustDocker(t, "inspect", "--format", "{{.Status.State | title}}|{{.Status.Err}}", ids[0])
		return got == wantHost, got
	})
	if ids := serviceContainers(t, d, "badhost", true); len(ids) != 0 {
		t.Errorf("a rejected task has containers: %v", ids)
	}
}
