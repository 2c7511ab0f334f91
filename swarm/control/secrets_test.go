package control

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func TestSecretsLifecycle(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCluster(t)

	id, err := c.CreateSecret(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "surf_sec"}, Data: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.CreateSecret(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "surf_sec2", Labels: map[string]string{"demo": "1"}}, Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}

	// Inspect never returns the data (traces/secret-inspect.json).
	s, err := c.GetSecret(ctx, "surf_sec")
	if err != nil {
		t.Fatal(err)
	}
	sameAsJSON(t, s, `{"ID":"`+id+`","Version":{"Index":1},"CreatedAt":"2026-11-25T06:00:00Z","UpdatedAt":"2026-11-25T06:00:00Z",
"Spec":{"Name":"surf_sec","Labels":{}}}`)

	refusals := []struct {
		spec   swarm.SecretSpec
		status int
		text   string
	}{
		{swarm.SecretSpec{Annotations: swarm.Annotations{Name: "Surf_Sec"}, Data: []byte("x")}, 409,
			"rpc error: code = AlreadyExists desc = secret Surf_Sec already exists"},
		{swarm.SecretSpec{Annotations: swarm.Annotations{Name: "empty"}}, 400,
			"rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than 512000 bytes"},
		{swarm.SecretSpec{Annotations: swarm.Annotations{Name: "big"}, Data: make([]byte, 512000)}, 400,
			"rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than 512000 bytes"},
		{swarm.SecretSpec{Annotations: swarm.Annotations{Name: "-x"}, Data: []byte("x")}, 400,
			"rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]"},
		{swarm.SecretSpec{Annotations: swarm.Annotations{Name: strings.Repeat("s", 65)}, Data: []byte("x")}, 400,
			"rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]"},
		{swarm.SecretSpec{Data: []byte("x")}, 400, "rpc error: code = InvalidArgument desc = name must be provided"},
	}
	for _, tt := range refusals {
		_, err := c.CreateSecret(ctx, tt.spec)
		wantErr(t, err, tt.status, tt.text)
	}
	if _, err := c.CreateSecret(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "a.b-c_d"}, Data: []byte("x")}); err != nil {
		t.Fatalf("dots and dashes are allowed in secret names: %v", err)
	}

	// Filters: names exact, name prefix and id prefix are alternatives; labels must all hold.
	for filter, want := range map[string]string{
		``:                                "a.b-c_d,surf_sec,surf_sec2",
		`{"name":{"surf":true}}`:          "surf_sec,surf_sec2",
		`{"names":["surf_sec"]}`:          "surf_sec",
		`{"names":{"SURF_SEC":true}}`:     "surf_sec",
		`{"label":{"demo":true}}`:         "surf_sec2",
		`{"label":{"demo=2":true}}`:       "",
		`{"id":{"` + id2[:6] + `":true}}`: "surf_sec2",
		`{"names":{"a.b-c_d":true},"id":{"` + id2 + `":true}}`: "a.b-c_d,surf_sec2",
	} {
		list, err := c.GetSecrets(ctx, swarm.SecretListOptions{Filters: filterArgs(t, filter)})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range list {
			if s.Spec.Data != nil {
				t.Fatalf("secret %s listed with its data", s.Spec.Name)
			}
			names = append(names, s.Spec.Name)
		}
		if got := sortedJoin(names); got != want {
			t.Errorf("filters %s: got %q, want %q", filter, got, want)
		}
	}
	_, err = c.GetSecrets(ctx, swarm.SecretListOptions{Filters: filterArgs(t, `{"driver":{"x":true}}`)})
	wantErr(t, err, 400, "invalid filter 'driver'")

	// Only labels may change.
	cur, _ := c.GetSecret(ctx, id)
	err = c.UpdateSecret(ctx, id, cur.Version.Index, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "surf_sec"}, Data: []byte("other")})
	wantErr(t, err, 400, "rpc error: code = InvalidArgument desc = only updates to Labels are allowed")
	err = c.UpdateSecret(ctx, id, cur.Version.Index, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "renamed"}})
	wantErr(t, err, 400, "rpc error: code = InvalidArgument desc = only updates to Labels are allowed")
	err = c.UpdateSecret(ctx, id, cur.Version.Index+1, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "surf_sec"}})
	wantErr(t, err, 500, "rpc error: code = Unknown desc = update out of sequence")
	if err := c.UpdateSecret(ctx, "surf_sec", cur.Version.Index, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "surf_sec", Labels: map[string]string{"k": "v"}}, Data: []byte("pw")}); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.GetSecret(ctx, id); s.Spec.Labels["k"] != "v" || s.Version.Index == cur.Version.Index {
		t.Fatalf("after label update: %+v", s)
	}

	// A secret a service uses cannot go.
	spec := simpleSpec("app")
	spec.TaskTemplate.ContainerSpec.Secrets = []*swarm.SecretReference{{SecretID: id, SecretName: "surf_sec",
		File: &swarm.SecretReferenceFileTarget{Name: "surf_sec", UID: "0", GID: "0", Mode: 0o444}}}
	mustCreateService(t, c, spec)
	wantErr(t, c.RemoveSecret(ctx, "surf_sec"), 400, "rpc error: code = InvalidArgument desc = secret 'surf_sec' is in use by the following service: app")
	spec.Name = "app2"
	mustCreateService(t, c, spec)
	// Services are named in ID order, as swarmkit lists them.
	err = c.RemoveSecret(ctx, id)
	if msg := "rpc error: code = InvalidArgument desc = secret 'surf_sec' is in use by the following services: "; statusOf(err) != 400 ||
		(err.Error() != msg+"app, app2" && err.Error() != msg+"app2, app") {
		t.Fatalf("remove of a secret two services use: %v", err)
	}

	if err := c.RemoveSecret(ctx, "surf_sec2"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSecret(ctx, "surf_sec2")
	wantErr(t, err, 404, "secret surf_sec2 not found")
	wantErr(t, c.RemoveSecret(ctx, "surf_sec2"), 404, "secret surf_sec2 not found")
}

func TestConfigsLifecycle(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCluster(t)
	id, err := c.CreateConfig(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "surf_cfg"}, Data: []byte("cfg")})
	if err != nil {
		t.Fatal(err)
	}
	// Configs do return their data (traces/config-inspect.json).
	cfg, err := c.GetConfig(ctx, id[:5])
	if err != nil {
		t.Fatal(err)
	}
	sameAsJSON(t, cfg, `{"ID":"`+id+`","Version":{"Index":1},"CreatedAt":"2026-11-25T06:00:00Z","UpdatedAt":"2026-11-25T06:00:00Z",
"Spec":{"Name":"surf_cfg","Labels":{},"Data":"Y2Zn"}}`)

	_, err = c.CreateConfig(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "surf_cfg"}, Data: []byte("x")})
	wantErr(t, err, 409, "rpc error: code = AlreadyExists desc = config surf_cfg already exists")
	_, err = c.CreateConfig(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "big"}, Data: make([]byte, 1000*1024)})
	wantErr(t, err, 400, "rpc error: code = InvalidArgument desc = config data must be larger than 0 and less than 1024000 bytes")
	if _, err := c.CreateConfig(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "fits"}, Data: make([]byte, 600*1024)}); err != nil {
		t.Fatalf("600 KiB fits a config: %v", err)
	}
	_, err = c.GetConfigs(ctx, swarm.ConfigListOptions{Filters: filterArgs(t, `{"names":{"x":true}}`)})
	wantErr(t, err, 400, "invalid filter 'names'")

	list, err := c.GetConfigs(ctx, swarm.ConfigListOptions{Filters: filterArgs(t, `{"name":["surf"]}`)})
	if err != nil || len(list) != 1 || string(list[0].Spec.Data) != "cfg" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	cur, _ := c.GetConfig(ctx, id)
	err = c.UpdateConfig(ctx, id, cur.Version.Index, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "surf_cfg"}, Data: []byte("new")})
	wantErr(t, err, 400, "rpc error: code = InvalidArgument desc = only updates to Labels are allowed")

	spec := simpleSpec("app")
	spec.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{{ConfigID: id, ConfigName: "surf_cfg",
		File: &swarm.ConfigReferenceFileTarget{Name: "/cfg.txt", UID: "0", GID: "0", Mode: 0o444}}}
	svcID := mustCreateService(t, c, spec)
	wantErr(t, c.RemoveConfig(ctx, "surf_cfg"), 400, "rpc error: code = InvalidArgument desc = config 'surf_cfg' is in use by the following service: app")
	if err := c.RemoveService(ctx, svcID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveConfig(ctx, "surf_cfg"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetConfig(ctx, "surf_cfg")
	wantErr(t, err, 404, "config surf_cfg not found")
}

func TestServiceReferencesMustMatchObjects(t *testing.T) {
	ctx := context.Background()
	c, _ := newTestCluster(t)
	id, err := c.CreateConfig(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "cfg"}, Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	spec := simpleSpec("app")
	spec.TaskTemplate.ContainerSpec.Configs = []*swarm.ConfigReference{{ConfigID: id, ConfigName: "wrong",
		File: &swarm.ConfigReferenceFileTarget{Name: "/c"}}}
	_, err = c.CreateService(ctx, spec, "", false)
	wantErr(t, err, 400, "rpc error: code = InvalidArgument desc = config not found: wrong")
}

func sortedJoin(s []string) string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return strings.Join(s, ",")
}
