package executor

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/runtime/template"
	"github.com/shoal-project/shoal/swarm/agent"
)

// fakeDeps holds secrets and configs in memory.
type fakeDeps struct {
	secrets map[string]swarm.Secret
	configs map[string]swarm.Config
}

func (d fakeDeps) Secret(_ context.Context, id string) (*swarm.Secret, error) {
	s, ok := d.secrets[id]
	if !ok {
		return nil, errors.New("secret " + id + " not found")
	}
	return &s, nil
}

func (d fakeDeps) Config(_ context.Context, id string) (*swarm.Config, error) {
	c, ok := d.configs[id]
	if !ok {
		return nil, errors.New("config " + id + " not found")
	}
	return &c, nil
}

func (d fakeDeps) RegistryAuth(context.Context, string) (string, error) { return "", nil }

func secret(id, data string, driver string) swarm.Secret {
	s := swarm.Secret{ID: id, Spec: swarm.SecretSpec{Data: []byte(data)}}
	if driver != "" {
		s.Spec.Templating = &swarm.Driver{Name: driver}
	}
	return s
}

func config(id, data string, driver string) swarm.Config {
	c := swarm.Config{ID: id, Spec: swarm.ConfigSpec{Data: []byte(data)}}
	if driver != "" {
		c.Spec.Templating = &swarm.Driver{Name: driver}
	}
	return c
}

func secretRef(id, target string) *swarm.SecretReference {
	return &swarm.SecretReference{SecretID: id, SecretName: id + "-name", File: &swarm.SecretReferenceFileTarget{Name: target, UID: "0", GID: "0", Mode: 0o444}}
}

func configRef(id, target string) *swarm.ConfigReference {
	return &swarm.ConfigReference{ConfigID: id, ConfigName: id + "-name", File: &swarm.ConfigReferenceFileTarget{Name: target, UID: "0", GID: "0", Mode: 0o444}}
}

func TestFillTaskFiles(t *testing.T) {
	deps := fakeDeps{
		secrets: map[string]swarm.Secret{
			"plain":   secret("plain", "pw {{.Task.ID}}", ""),
			"tplsec":  secret("tplsec", `pw={{secret "plain"}} cfg={{config "/c1"}} x={{env "X"}}`, "golang"),
			"badsec":  secret("badsec", "x", "foo"),
			"missing": secret("missing", `{{secret "nope"}}`, "golang"),
		},
		configs: map[string]swarm.Config{
			"c1":     config("c1", `svc={{ .Service.Name }} env={{ env "X" }} node={{.Node.ID}}/{{.Node.Hostname}}`, "golang"),
			"c2":     config("c2", "raw {{.Service.Name}}", ""),
			"badcfg": config("badcfg", "x", "jinja"),
		},
	}
	task := swarm.Task{ID: "t1", ServiceID: "s1", NodeID: "n1", Slot: 1}
	task.Annotations.Name = "tplsvc.1.t1"
	tctx := template.NewContext(task, template.Service{Name: "tplsvc"}, nil)
	tests := []struct {
		name    string
		spec    swarm.ContainerSpec
		want    map[string]string // target -> data
		wantErr string
	}{
		{"templated config reads the env", swarm.ContainerSpec{Env: []string{"X=42"}, Configs: []*swarm.ConfigReference{configRef("c1", "/c1")}},
			map[string]string{"/c1": "svc=tplsvc env=42 node=n1/"}, ""},
		{"untemplated secret and config are kept as they are", swarm.ContainerSpec{
			Secrets: []*swarm.SecretReference{secretRef("plain", "plain")}, Configs: []*swarm.ConfigReference{configRef("c2", "c2")}},
			map[string]string{"/run/secrets/plain": "pw {{.Task.ID}}", "/c2": "raw {{.Service.Name}}"}, ""},
		{"templated secret includes the raw data of others by target", swarm.ContainerSpec{Env: []string{"X=7"},
			Secrets: []*swarm.SecretReference{secretRef("tplsec", "app"), secretRef("plain", "plain")},
			Configs: []*swarm.ConfigReference{configRef("c1", "/c1")}},
			map[string]string{"/run/secrets/app": `pw=pw {{.Task.ID}} cfg=svc={{ .Service.Name }} env={{ env "X" }} node={{.Node.ID}}/{{.Node.Hostname}} x=7`,
				"/run/secrets/plain": "pw {{.Task.ID}}", "/c1": "svc=tplsvc env=7 node=n1/"}, ""},
		{"unknown secret driver", swarm.ContainerSpec{Secrets: []*swarm.SecretReference{secretRef("badsec", "b")}}, nil,
			"unable to get secret from secret store: failed to expand templated secret badsec: unrecognized template type"},
		{"unknown config driver", swarm.ContainerSpec{Configs: []*swarm.ConfigReference{configRef("badcfg", "/b")}}, nil,
			"unable to get config from config store: failed to expand templated config badcfg: unrecognized template type"},
		{"secret errors come before config errors", swarm.ContainerSpec{Configs: []*swarm.ConfigReference{configRef("badcfg", "/b")},
			Secrets: []*swarm.SecretReference{secretRef("badsec", "b")}}, nil,
			"unable to get secret from secret store: failed to expand templated secret badsec: unrecognized template type"},
		{"unknown target", swarm.ContainerSpec{Secrets: []*swarm.SecretReference{secretRef("missing", "m")}}, nil,
			`unable to get secret from secret store: failed to expand templated secret missing: template: expansion:1:2: executing "expansion" at <secret "nope">: error calling secret: secret target nope not found`},
		{"fetch error", swarm.ContainerSpec{Secrets: []*swarm.SecretReference{secretRef("gone", "g")}}, nil,
			"unable to get secret from secret store: secret gone not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := taskFiles(&tt.spec)
			err := fillTaskFiles(context.Background(), files, &tt.spec, deps, tctx)
			if errText(err) != tt.wantErr {
				t.Fatalf("error %q, want %q", errText(err), tt.wantErr)
			}
			if err != nil {
				return
			}
			got := map[string]string{}
			for _, f := range files {
				got[f.target] = string(f.data)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("files %q, want %q", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("file %s: %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestControllerExpandsContainerSpec(t *testing.T) {
	host, _ := os.Hostname()
	e := &Executor{}
	tests := []struct {
		name         string
		spec         swarm.ContainerSpec
		svc          swarm.Annotations // what the task keeps of its service
		wantHostname string
		wantEnv      []string
		wantErr      string
	}{
		{"hostname and env", swarm.ContainerSpec{Image: "busybox", Hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
			Env: []string{"SVC={{.Service.Name}}", "N={{.Node.ID}}"}}, swarm.Annotations{}, host + "-1", []string{"SVC=perm", "N=n1"}, ""},
		{"service name and labels from the task's service annotations", swarm.ContainerSpec{Image: "busybox",
			Hostname: `{{index .Service.Labels "a"}}`, Env: []string{"SVC={{.Service.Name}}", "L={{.Service.Labels}}", "C={{.Service.Labels.c}}"}},
			swarm.Annotations{Name: "web", Labels: map[string]string{"a": "b", "c": "d"}}, "b", []string{"SVC=web", "L=map[a:b c:d]", "C=d"}, ""},
		{"no service labels print as an empty map", swarm.ContainerSpec{Image: "busybox", Env: []string{"L={{.Service.Labels}}"}},
			swarm.Annotations{Name: "web"}, "", []string{"L=map[]"}, ""},
		{"nothing to expand", swarm.ContainerSpec{Image: "busybox"}, swarm.Annotations{}, "", nil, ""},
		{"a missing service label is an error", swarm.ContainerSpec{Image: "busybox", Hostname: "{{.Service.Labels.zz}}"},
			swarm.Annotations{Name: "web", Labels: map[string]string{"a": "b"}}, "", nil,
			`expanding hostname failed: template: expansion:1:10: executing "expansion" at <.Service.Labels.zz>: map has no entry for key "zz"`},
		{"a template error rejects the task at Prepare", swarm.ContainerSpec{Image: "busybox", Hostname: "{{.Nope}}"}, swarm.Annotations{}, "", nil,
			`expanding hostname failed: template: expansion:1:2: executing "expansion" at <.Nope>: can't evaluate field Nope in type *template.Context`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := swarm.Task{ID: "t1", ServiceID: "s1", NodeID: "n1", Slot: 1, Spec: swarm.TaskSpec{ContainerSpec: &tt.spec}}
			task.Annotations.Name = "perm.1.t1"
			orig := tt.spec.Hostname
			ctrl, err := e.Controller(agent.Task{Task: task, ServiceAnnotations: tt.svc}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := ctrl.(*controller)
			if tt.wantErr != "" {
				if err := c.Prepare(context.Background()); errText(err) != tt.wantErr {
					t.Fatalf("Prepare: %q, want %q", errText(err), tt.wantErr)
				}
				if err := c.Start(context.Background()); errText(err) != "starting container failed: "+tt.wantErr {
					t.Fatalf("Start: %q", errText(err))
				}
				return
			}
			cs := c.task.Spec.ContainerSpec
			if cs.Hostname != tt.wantHostname || len(cs.Env) != len(tt.wantEnv) {
				t.Fatalf("hostname %q env %q, want %q %q", cs.Hostname, cs.Env, tt.wantHostname, tt.wantEnv)
			}
			for i := range cs.Env {
				if cs.Env[i] != tt.wantEnv[i] {
					t.Fatalf("env %q, want %q", cs.Env, tt.wantEnv)
				}
			}
			if task.Spec.ContainerSpec.Hostname != orig {
				t.Fatalf("the task given was changed: hostname %q", task.Spec.ContainerSpec.Hostname)
			}
		})
	}
}

func TestWriteTaskFilesRewritesInPlace(t *testing.T) {
	dir := t.TempDir()
	files := []fileMount{{name: "secret-0", target: "/run/secrets/s", mode: 0o400}, {name: "config-0", target: "/c", mode: 0o444}}
	mounts, err := writeTaskFiles(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 2 || mounts[0].Target != "/run/secrets/s" || !mounts[0].ReadOnly || mounts[1].Source != dir+"/config-0" {
		t.Fatalf("mounts %+v", mounts)
	}
	before, err := os.Stat(mounts[0].Source)
	if err != nil || before.Size() != 0 || before.Mode().Perm() != 0o400 {
		t.Fatalf("placeholder: %v %v", before, err)
	}
	files[0].data = []byte("s3cret")
	if _, err := writeTaskFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(mounts[0].Source)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || after.Mode().Perm() != 0o400 {
		t.Fatalf("the file was replaced or its mode changed: %v", after)
	}
	if b, _ := os.ReadFile(mounts[0].Source); string(b) != "s3cret" {
		t.Fatalf("data %q", b)
	}
}
