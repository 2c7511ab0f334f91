package integration

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/integration/harness"
)

// dockerPyScript drives a swarm with docker-py the way scripts do: init, a service, its tasks, an
// update, nodes, networks, and the errors docker-py raises.
const dockerPyScript = `
import sys, time, docker
c = docker.from_env(version="auto", timeout=60)
assert c.ping()
node_id = c.swarm.init(advertise_addr="127.0.0.1", listen_addr=sys.argv[1])
assert c.swarm.attrs["ID"], c.swarm.attrs
net = c.networks.create("pynet", driver="overlay", attachable=True)
svc = c.services.create(sys.argv[2], name="pysvc", networks=["pynet"], mode=docker.types.ServiceMode("replicated", replicas=2))
deadline = time.time() + 90
while time.time() < deadline:
    running = [t for t in svc.tasks() if t["Status"]["State"] == "running"]
    if len(running) == 2:
        break
    time.sleep(0.5)
else:
    sys.exit("tasks never ran: %r" % svc.tasks())
svc.reload()  # the allocator has written the service's endpoint since create: take its version
svc.scale(3)
svc.reload()
assert svc.attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 3, svc.attrs["Spec"]["Mode"]
nodes = c.nodes.list(filters={"role": "manager"})
assert len(nodes) == 1 and nodes[0].id == node_id, nodes
try:
    c.services.get("nope")
    sys.exit("no error for a missing service")
except docker.errors.NotFound as e:
    assert "service nope not found" in str(e), str(e)
try:
    c.networks.create("pynet", driver="overlay")
    sys.exit("no error for a duplicate network")
except docker.errors.APIError as e:
    assert e.status_code == 409, e
svc.remove()
print("docker-py ok")
`

// TestDockerPy: docker-py 7 (the Python SDK) drives shoald unchanged.
func TestDockerPy(t *testing.T) {
	if err := exec.Command("python3", "-c", "import docker").Run(); err != nil {
		t.Skip("docker-py is not installed (pip install docker)")
	}
	d := harness.StartDaemon(t, harness.Options{})
	reg := harness.StartRegistry(t)
	imgs := harness.PushImages(t, reg)
	t.Cleanup(func() { removeAllContainers(t, d) })
	cmd := exec.Command("python3", "-c", dockerPyScript, harness.FreeLoopbackAddr(t), imgs["sleeper:1"])
	cmd.Env = append(d.Env(), "PYTHONUNBUFFERED=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "docker-py ok") {
		t.Fatalf("docker-py: %v\n%s", err, out)
	}
}
