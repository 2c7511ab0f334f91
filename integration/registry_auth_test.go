package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestPrivateRegistry: `docker login` is checked against the registry; a service created with the
// registry auth (--with-registry-auth, or the SDK's EncodedRegistryAuth) pulls from a registry that
// needs it, and one created without is rejected with the registry's error.
func TestPrivateRegistry(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})
	reg := harness.StartRegistryWithAuth(t, "alice", "wonderland")
	imgs := harness.PushImages(t, reg)
	swarmInit(t, d)

	_, stderr, code := d.Docker(t, "login", reg.Addr, "-u", "alice", "-p", "wrong")
	wantFail(t, "login with a wrong password", stderr, code, "unauthorized")
	if out, stderr, code := d.Docker(t, "login", reg.Addr, "-u", "alice", "-p", "wonderland"); code != 0 || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("login: exit %d\n%s\n%s", code, out, stderr)
	}

	// with the auth the CLI keeps after login
	d.MustDocker(t, "service", "create", "-d", "--with-registry-auth", "--name", "priv", imgs["sleeper:1"])
	waitRunning(t, d, "priv", 1)

	// through the SDK, with the auth given explicitly
	auth, _ := json.Marshal(registry.AuthConfig{Username: "alice", Password: "wonderland", ServerAddress: reg.Addr})
	one := uint64(1)
	_, err := d.Client(t).ServiceCreate(context.Background(), swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "priv2"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: imgs["busybox:1"], Command: []string{"sleep", "1000"}}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}}},
		swarm.ServiceCreateOptions{EncodedRegistryAuth: base64.URLEncoding.EncodeToString(auth)})
	if err != nil {
		t.Fatal(err)
	}
	waitRunning(t, d, "priv2", 1)

	// without it, the registry refuses and the task says why
	d.MustDocker(t, "service", "create", "-d", "--name", "noauth", imgs["exitcode:1"])
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out := d.MustDocker(t, "service", "ps", "--no-trunc", "noauth", "--format", "{{.CurrentState}}|{{.Error}}")
		return strings.Contains(out, "Rejected") && strings.Contains(out, "unauthorized"), out
	})
}
