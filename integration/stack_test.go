package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestStackDeployWithSecretsAndConfigs: `docker stack deploy` of a compose file with a network, a
// secret and a config; the tasks read the secret at /run/secrets/<name> and the config at its target;
// `docker stack rm` removes it all.
func TestStackDeployWithSecretsAndConfigs(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "token.txt"), []byte("s3cret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "index.txt"), []byte("hello-config\n"), 0o600)
	compose := `version: "3.8"
services:
  web:
    image: ` + imgs["sleeper:1"] + `
    deploy:
      replicas: 2
    networks: [back]
  reader:
    image: ` + imgs["busybox:1"] + `
    command: ["sh", "-c", "cat /run/secrets/token /etc/app/index.txt; exec sleep 1000"]
    networks: [back]
    secrets: [token]
    configs:
      - source: index
        target: /etc/app/index.txt
        mode: 0440
networks:
  back: {}
secrets:
  token:
    file: ` + filepath.Join(dir, "token.txt") + `
configs:
  index:
    file: ` + filepath.Join(dir, "index.txt") + `
`
	file := filepath.Join(dir, "compose.yml")
	if err := os.WriteFile(file, []byte(compose), 0o600); err != nil {
		t.Fatal(err)
	}
	out := d.MustDocker(t, "stack", "deploy", "-c", file, "demo")
	for _, want := range []string{"Creating network demo_back", "Creating secret demo_token", "Creating config demo_index", "Creating service demo_web", "Creating service demo_reader"} {
		if !strings.Contains(out, want) {
			t.Errorf("stack deploy output lacks %q:\n%s", want, out)
		}
	}
	if got := d.MustDocker(t, "stack", "ls", "--format", "{{.Name}} {{.Services}}"); got != "demo 2" {
		t.Errorf("stack ls: %q", got)
	}
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		out := d.MustDocker(t, "stack", "services", "demo", "--format", "{{.Name}} {{.Replicas}}")
		return strings.Contains(out, "demo_web 2/2") && strings.Contains(out, "demo_reader 1/1"), out
	})
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		logs, _, _ := d.Docker(t, "service", "logs", "--raw", "demo_reader")
		return strings.Contains(logs, "s3cret") && strings.Contains(logs, "hello-config"), logs
	})
	c := serviceContainers(t, d, "demo_reader", false)
	if len(c) != 1 {
		t.Fatalf("reader containers: %v", c)
	}
	if ls := d.MustDocker(t, "exec", c[0], "ls", "-l", "/etc/app/index.txt"); !strings.HasPrefix(ls, "-r--r-----") {
		t.Errorf("config file mode: %s", ls)
	}
	if _, _, code := d.Docker(t, "exec", c[0], "sh", "-c", "echo x > /run/secrets/token"); code == 0 {
		t.Error("a secret file is writable in the container")
	}
	out = d.MustDocker(t, "stack", "rm", "demo")
	if !strings.Contains(out, "Removing secret demo_token") || !strings.Contains(out, "Removing network demo_back") {
		t.Errorf("stack rm:\n%s", out)
	}
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out := d.MustDocker(t, "ps", "-aq")
		return out == "", out
	})
}
