package template

import (
	"reflect"
	"testing"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

func replicatedTask() swarm.Task {
	t := swarm.Task{ID: "taskID", ServiceID: "serviceID", NodeID: "nodeID", Slot: 10}
	t.Annotations.Name = "serviceName.10.taskID"
	return t
}

var testNode = &swarm.NodeDescription{Hostname: "myhostname", Platform: swarm.Platform{Architecture: "x86_64", OS: "linux"}}

func TestExpand(t *testing.T) {
	global := swarm.Task{ID: "taskID", ServiceID: "serviceID", NodeID: "nodeID"} // no slot, no name
	svc := Service{Name: "serviceName", Labels: map[string]string{"tier": "front"}}
	tests := []struct {
		name    string
		task    swarm.Task
		node    *swarm.NodeDescription
		in      string
		want    string
		wantErr string
	}{
		{"plain text is kept", replicatedTask(), testNode, "no template here", "no template here", ""},
		{"service", replicatedTask(), testNode, "{{.Service.ID}} {{.Service.Name}} {{.Service.Labels.tier}} {{index .Service.Labels \"tier\"}}",
			"serviceID serviceName front front", ""},
		{"service labels print as a Go map, as Docker's", replicatedTask(), testNode, "{{.Service.Labels}}", "map[tier:front]", ""},
		{"node", replicatedTask(), testNode, "{{.Node.ID}} {{.Node.Hostname}} {{.Node.Platform.OS}} {{.Node.Platform.Architecture}}",
			"nodeID myhostname linux x86_64", ""},
		{"no node description: hostname and platform empty", replicatedTask(), nil, "[{{.Node.ID}}|{{.Node.Hostname}}|{{.Node.Platform.OS}}]",
			"[nodeID||]", ""},
		{"task", replicatedTask(), testNode, "{{.Task.ID}} {{.Task.Name}} {{.Task.Slot}}", "taskID serviceName.10.taskID 10", ""},
		{"global task: node ID for slot, name made up", global, testNode, "{{.Task.Slot}} {{.Task.Name}}", "nodeID serviceName.nodeID.taskID", ""},
		{"join", replicatedTask(), testNode, `{{join "-" .Service.Name .Task.Slot}}`, "serviceName-10", ""},
		{"unknown function", replicatedTask(), testNode, "{{foo}}", "{{foo}}", `template: expansion:1: function "foo" not defined`},
		{"unknown field", replicatedTask(), testNode, "x-{{.Foo}}", "x-{{.Foo}}",
			`template: expansion:1:4: executing "expansion" at <.Foo>: can't evaluate field Foo in type *template.Context`},
		{"unknown field of a part", replicatedTask(), testNode, "{{.Task.Labels}}", "{{.Task.Labels}}",
			`template: expansion:1:7: executing "expansion" at <.Task.Labels>: can't evaluate field Labels in type struct { ID string; Name string; Slot string }`},
		{"missing label", replicatedTask(), testNode, "{{.Service.Labels.nope}}", "{{.Service.Labels.nope}}",
			`template: expansion:1:10: executing "expansion" at <.Service.Labels.nope>: map has no entry for key "nope"`},
		{"unclosed action", replicatedTask(), testNode, "{{.Task.Slot", "{{.Task.Slot", `template: expansion:1: unclosed action`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(NewContext(tt.task, svc, tt.node), tt.in)
			if errText(err) != tt.wantErr {
				t.Fatalf("error %q, want %q", errText(err), tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
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

func TestExpandContainerSpec(t *testing.T) {
	ctx := NewContext(replicatedTask(), Service{Name: "web"}, testNode)
	tests := []struct {
		name    string
		in      swarm.ContainerSpec
		want    swarm.ContainerSpec
		wantErr string
	}{
		{"nothing to expand", swarm.ContainerSpec{Image: "busybox", Env: []string{"A=1"}},
			swarm.ContainerSpec{Image: "busybox", Env: []string{"A=1"}}, ""},
		{"env values and hostname", swarm.ContainerSpec{Image: "busybox", Hostname: "{{.Node.Hostname}}-{{.Task.Slot}}",
			Env: []string{"SVC={{.Service.Name}}", "KEEP", "EQ=a=b", "{{.Task.ID}}=name-is-not-expanded"}},
			swarm.ContainerSpec{Image: "busybox", Hostname: "myhostname-10",
				Env: []string{"SVC=web", "KEEP", "EQ=a=b", "{{.Task.ID}}=name-is-not-expanded"}}, ""},
		{"mounts", swarm.ContainerSpec{Mounts: []mount.Mount{
			{Type: mount.TypeBind, Source: "/data/{{.Service.Name}}", Target: "/d/{{.Task.Slot}}", ReadOnly: true},
			{Type: mount.TypeVolume, Source: "vol-{{.Task.Slot}}", Target: "/v", VolumeOptions: &mount.VolumeOptions{
				Labels: map[string]string{"svc": "{{.Service.Name}}"}, NoCopy: true,
				DriverConfig: &mount.Driver{Name: "local", Options: map[string]string{"device": "/dev/{{.Task.Slot}}"}}}},
		}}, swarm.ContainerSpec{Mounts: []mount.Mount{
			{Type: mount.TypeBind, Source: "/data/web", Target: "/d/10", ReadOnly: true},
			{Type: mount.TypeVolume, Source: "vol-10", Target: "/v", VolumeOptions: &mount.VolumeOptions{
				Labels: map[string]string{"svc": "web"}, NoCopy: true,
				DriverConfig: &mount.Driver{Name: "local", Options: map[string]string{"device": "/dev/10"}}}},
		}}, ""},
		{"bad env", swarm.ContainerSpec{Env: []string{"OK=1", "T={{.Nope}}"}}, swarm.ContainerSpec{},
			`expanding env failed: expanding env "T={{.Nope}}": template: expansion:1:2: executing "expansion" at <.Nope>: can't evaluate field Nope in type *template.Context`},
		{"bad hostname", swarm.ContainerSpec{Hostname: "{{bad}}"}, swarm.ContainerSpec{},
			`expanding hostname failed: template: expansion:1: function "bad" not defined`},
		{"bad mount source", swarm.ContainerSpec{Mounts: []mount.Mount{{Source: "{{", Target: "/x"}}}, swarm.ContainerSpec{},
			`expanding mounts failed: expanding mount source "{{": template: expansion:1: unclosed action`},
		{"bad mount target", swarm.ContainerSpec{Mounts: []mount.Mount{{Source: "s", Target: "{{.X}}"}}}, swarm.ContainerSpec{},
			`expanding mounts failed: expanding mount target "{{.X}}": template: expansion:1:2: executing "expansion" at <.X>: can't evaluate field X in type *template.Context`},
		{"bad volume label", swarm.ContainerSpec{Mounts: []mount.Mount{{Source: "s", Target: "/t",
			VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{"k": "{{x}}"}}}}}, swarm.ContainerSpec{},
			`expanding mounts failed: expanding volume labels: expanding map entry "k"="{{x}}": template: expansion:1: function "x" not defined`},
		{"bad volume driver option", swarm.ContainerSpec{Mounts: []mount.Mount{{Source: "s", Target: "/t",
			VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Options: map[string]string{"o": "{{x}}"}}}}}}, swarm.ContainerSpec{},
			`expanding mounts failed: expanding volume driver config: expanding map entry "o"="{{x}}": template: expansion:1: function "x" not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := clone(t, tt.in)
			got, err := ExpandContainerSpec(ctx, &tt.in)
			if errText(err) != tt.wantErr {
				t.Fatalf("error %q, want %q", errText(err), tt.wantErr)
			}
			if !reflect.DeepEqual(tt.in, before) {
				t.Fatalf("the input changed: %+v, was %+v", tt.in, before)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

// clone deep-copies what ExpandContainerSpec could touch, to see that it leaves its input alone.
func clone(t *testing.T, cs swarm.ContainerSpec) swarm.ContainerSpec {
	t.Helper()
	out := cs
	out.Env = append([]string(nil), cs.Env...)
	if cs.Env == nil {
		out.Env = nil
	}
	out.Mounts = nil
	for _, m := range cs.Mounts {
		if vo := m.VolumeOptions; vo != nil {
			v := *vo
			v.Labels = map[string]string{}
			for k, x := range vo.Labels {
				v.Labels[k] = x
			}
			if vo.Labels == nil {
				v.Labels = nil
			}
			if dc := vo.DriverConfig; dc != nil {
				d := *dc
				d.Options = map[string]string{}
				for k, x := range dc.Options {
					d.Options[k] = x
				}
				if dc.Options == nil {
					d.Options = nil
				}
				v.DriverConfig = &d
			}
			m.VolumeOptions = &v
		}
		out.Mounts = append(out.Mounts, m)
	}
	return out
}

func TestExpandPayload(t *testing.T) {
	ctx := NewContext(replicatedTask(), Service{Name: "tplsvc"}, nil)
	p := Payload{
		Env:     []string{"X=42", "EMPTY=", "NOVALUE", "X=second"},
		Secrets: map[string][]byte{"refsecret": []byte("mysecret"), "self": []byte(`{{secret "self"}}`)},
		Configs: map[string][]byte{"/etc/ref.conf": []byte("myconfig")},
	}
	golang := &swarm.Driver{Name: "golang"}
	tests := []struct {
		name    string
		driver  *swarm.Driver
		in      string
		want    string
		wantErr string
	}{
		{"no driver: kept as it is", nil, `svc={{ .Service.Name }}`, `svc={{ .Service.Name }}`, ""},
		{"context and env", golang, `svc={{ .Service.Name }} env={{ env "X" }} task={{.Task.Name}} node=[{{.Node.ID}}|{{.Node.Hostname}}]`,
			"svc=tplsvc env=42 task=serviceName.10.taskID node=[nodeID|]", ""},
		{"env: empty, without value, unknown", golang, `[{{env "EMPTY"}}|{{env "NOVALUE"}}|{{env "nope"}}]`, "[||]", ""},
		{"secret and config by target", golang, `S={{secret "refsecret"}} C={{config "/etc/ref.conf"}}`, "S=mysecret C=myconfig", ""},
		{"a secret that includes itself gets its raw data", golang, `V={{secret "self"}}`, `V={{secret "self"}}`, ""},
		{"secret target unknown", golang, "SECRET_VAL={{secret \"unknowntarget\"}}\n", "SECRET_VAL={{secret \"unknowntarget\"}}\n",
			`template: expansion:1:13: executing "expansion" at <secret "unknowntarget">: error calling secret: secret target unknowntarget not found`},
		{"config target unknown", golang, `{{config "nope"}}`, `{{config "nope"}}`,
			`template: expansion:1:2: executing "expansion" at <config "nope">: error calling config: config target nope not found`},
		{"unknown field", golang, `{{.Secret}}`, `{{.Secret}}`,
			`template: expansion:1:2: executing "expansion" at <.Secret>: can't evaluate field Secret in type *template.PayloadContext`},
		{"unknown driver", &swarm.Driver{Name: "foo"}, "data {{.Task.ID}}", "data {{.Task.ID}}", "unrecognized template type"},
		{"empty driver name", &swarm.Driver{}, "data", "data", "unrecognized template type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandPayload(tt.driver, []byte(tt.in), ctx, p)
			if errText(err) != tt.wantErr {
				t.Fatalf("error %q, want %q", errText(err), tt.wantErr)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
