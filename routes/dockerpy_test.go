package routes

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// dockerPyScript drives the server with docker-py (version="auto" negotiates through GET /version).
const dockerPyScript = `
import docker, sys
c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="auto")
print("api", c.api.api_version)
print("ping", c.ping())
print("services", c.services.list())
print("nets", sorted(n.name for n in c.networks.list(filters={"name": "o"})))
# docker-py reads the exec output from the raw socket after http.client parsed the 101 headers, so
# output that arrives in the same read as the headers is lost; the fake answers instantly, a real
# process start does not. Only the exit code is checked here (the CLI and SDK tests check output).
r = c.api.exec_create("c1", ["fail"])
c.api.exec_start(r["Id"], demux=True)
print("exit", c.api.exec_inspect(r["Id"])["ExitCode"])
try:
    c.services.get("nope")
except docker.errors.NotFound as e:
    print("notfound", e.explanation)
try:
    c.api.services(filters={"bogus": "1"})
except docker.errors.APIError as e:
    print("badfilter", e.status_code, e.explanation)
`

func TestDockerPy(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	if exec.Command("python3", "-c", "import docker").Run() != nil {
		t.Skip("docker-py not installed")
	}
	env := startEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env.sync()
	out, err := exec.CommandContext(ctx, "python3", "-c", dockerPyScript, env.sock).CombinedOutput()
	env.sync()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := []string{
		"api 1.51",
		"ping True",
		"services []",
		"nets ['host', 'none']",
		"exit 3",
		"notfound service nope not found",
		"badfilter 400 invalid filter 'bogus'",
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("docker-py output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}
