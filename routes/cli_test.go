package routes

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
)

// These tests drive the server with the stock docker CLI, as users will.

func TestCLIVersionInfo(t *testing.T) {
	env := startEnv(t)
	res := env.docker(t, "", "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}")
	if res.code != 0 || res.stdout != "test-1.0 1.51 1.24 linux\n" {
		t.Errorf("version: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "version")
	if res.code != 0 || !strings.Contains(res.stdout, "Server:") || !strings.Contains(res.stdout, "API version:      1.51 (minimum version 1.24)") {
		t.Errorf("version: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "info")
	for _, want := range []string{" Server Version: test-1.0", " Swarm: active", "  NodeID: node1id", "  Is Manager: true", " Name: testhost"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("info lacks %q:\n%s\n%s", want, res.stdout, res.stderr)
		}
	}
	res = env.docker(t, "", "info", "--format", "{{.Swarm.LocalNodeState}}")
	if res.stdout != "active\n" {
		t.Errorf("info format: %q %q", res.stdout, res.stderr)
	}
}

func TestCLIListsAndErrors(t *testing.T) {
	env := startEnv(t)

	res := env.docker(t, "", "service", "ls")
	if res.code != 0 || strings.Join(strings.Fields(res.stdout), " ") != "ID NAME MODE REPLICAS IMAGE PORTS" {
		t.Errorf("service ls: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "network", "ls", "--format", "{{.Name}}|{{.Driver}}|{{.Scope}}")
	if res.code != 0 || res.stdout != "bridge|bridge|local\nhost|host|local\nnone|null|local\n" {
		t.Errorf("network ls: rc %d %q %q", res.code, res.stdout, res.stderr)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"service", "inspect", "nope"}, "no such service: nope"}, // the CLI's own text, on a 404
		{[]string{"service", "rm", "nope"}, "Error response from daemon: service nope not found"},
		{[]string{"service", "ls", "--filter", "bogus=1"}, "Error response from daemon: invalid filter 'bogus'"},
		{[]string{"node", "ls", "--filter", "availability=drain"}, "Error response from daemon: invalid filter 'availability'"},
		{[]string{"network", "inspect", "nope"}, "Error response from daemon: network nope not found"},
		{[]string{"network", "create", "-d", "overlay", "host"}, "Error response from daemon: host is a pre-defined network and cannot be created"},
		{[]string{"secret", "inspect", "nope"}, "Error response from daemon: secret nope not found"},
		{[]string{"swarm", "join-token", "-q", "--rotate", "worker"}, ""}, // GET /swarm, POST /swarm/update, GET /swarm
	} {
		res := env.docker(t, "", tt.args...)
		if tt.want == "" {
			if res.code != 0 {
				t.Errorf("%v: rc %d %q", tt.args, res.code, res.stderr)
			}
			continue
		}
		if res.code == 0 || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%v: rc %d stderr %q, want %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
	// Versions out of range, as curl would send them.
	resp, body := env.do(t, "GET", "/v1.12/version", "", "")
	if resp.StatusCode != 400 || body != "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version\n" {
		t.Errorf("too old: %d %q", resp.StatusCode, body)
	}
	resp, body = env.do(t, "GET", "/v1.99/services", "", "")
	if resp.StatusCode != 400 || body != `{"message":"client version 1.99 is too new. Maximum supported API version is 1.51"}`+"\n" {
		t.Errorf("too new: %d %q", resp.StatusCode, body)
	}
	if f := env.cluster.last.swarmFlags; !f.RotateWorkerToken || f.RotateManagerToken || env.cluster.last.updateVersion != 7 {
		t.Errorf("join-token --rotate sent %+v version %d", env.cluster.last.swarmFlags, env.cluster.last.updateVersion)
	}
}

func TestCLIServiceLifecycle(t *testing.T) {
	env := startEnv(t)
	env.cluster.networks = []network.Inspect{{ID: "netid000000000000000000001", Name: "front", Driver: "overlay", Scope: "swarm"}}

	res := env.docker(t, "", "service", "create", "--detach", "--name", "web", "--replicas", "2", "--no-resolve-image", "busybox:1")
	if res.code != 0 || strings.TrimSpace(res.stdout) != "svc0000000000000000000001" {
		t.Fatalf("create: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	if cs := env.cluster.last.createSpec; cs.Name != "web" || cs.TaskTemplate.ContainerSpec.Image != "busybox:1" || *cs.Mode.Replicated.Replicas != 2 {
		t.Errorf("spec %+v", cs)
	}
	res = env.docker(t, "", "service", "ls", "--format", "{{.Name}} {{.Image}}")
	if res.stdout != "web busybox:1\n" {
		t.Errorf("ls: %q %q", res.stdout, res.stderr)
	}
	res = env.docker(t, "", "service", "scale", "--detach", "web=3")
	if res.code != 0 || env.cluster.last.updateVersion != 10 {
		t.Errorf("scale: rc %d %q version %d", res.code, res.stderr, env.cluster.last.updateVersion)
	}
	res = env.docker(t, "", "service", "rm", "web")
	if res.code != 0 || res.stdout != "web\n" {
		t.Errorf("rm: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "network", "rm", "front")
	if res.code != 0 || env.cluster.calls[len(env.cluster.calls)-1] != "RemoveNetwork netid000000000000000000001" {
		t.Errorf("network rm: rc %d %q %v", res.code, res.stderr, env.cluster.calls)
	}
	res = env.docker(t, "secret data", "secret", "create", "s1", "-")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "sec") || string(env.cluster.secrets[0].Spec.Data) != "secret data" {
		t.Errorf("secret create: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
}

// TestCLIServiceLogs: the CLI asks for details, parses them and resolves node, service and task to
// print "name.slot.taskid@host | line".
func TestCLIServiceLogs(t *testing.T) {
	env := startEnv(t)
	replicas := uint64(2)
	env.cluster.services = []swarm.Service{{ID: "svcid0000000000000000001", Spec: swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "web"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox"}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}}}}}
	env.cluster.nodes = []swarm.Node{{ID: "nodeid000000000000000001", Description: swarm.NodeDescription{Hostname: "host1"}}}
	env.cluster.tasks = []swarm.Task{{ID: "taskid000000000000000001", ServiceID: "svcid0000000000000000001", Slot: 1,
		NodeID: "nodeid000000000000000001", Spec: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{}}}}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	attrs := []backend.LogAttr{
		{Key: "com.docker.swarm.task.id", Value: "taskid000000000000000001"},
		{Key: "com.docker.swarm.node.id", Value: "nodeid000000000000000001"},
		{Key: "com.docker.swarm.service.id", Value: "svcid0000000000000000001"},
		{Key: "user label", Value: "a,b=c"},
	}
	env.cluster.logs = map[string][]*backend.LogMessage{"svcid0000000000000000001": {
		logMsg("stdout", "tick 0\n", ts, attrs...),
		logMsg("stderr", "oops\n", ts, attrs...),
	}}

	res := env.docker(t, "", "service", "logs", "web")
	if res.code != 0 {
		t.Fatalf("rc %d %q", res.code, res.stderr)
	}
	if res.stdout != "web.1.taskid000000@host1    | tick 0\n" || res.stderr != "web.1.taskid000000@host1    | oops\n" {
		t.Errorf("logs: stdout %q stderr %q", res.stdout, res.stderr)
	}
	if o := env.cluster.last.logsOpts; !o.Details || !o.ShowStdout || !o.ShowStderr {
		t.Errorf("options %+v", o)
	}

	res = env.docker(t, "", "service", "logs", "--timestamps", "--details", "--no-task-ids", "web")
	// The CLI unescapes details: "a,b=c" survives only if the server escaped it.
	if res.stdout != "2026-01-02T03:04:05.000000006Z web.1@host1    | user label=a,b=c tick 0\n" {
		t.Errorf("logs --timestamps --details: %q %q", res.stdout, res.stderr)
	}

	res = env.docker(t, "", "service", "logs", "--raw", "--no-resolve", "web")
	if res.stdout != "tick 0\n" {
		t.Errorf("raw: %q %q", res.stdout, res.stderr)
	}

	// A task ID: /services/ID is 404, then /tasks/ID and /tasks/ID/logs.
	env.cluster.logs["taskid000000000000000001"] = []*backend.LogMessage{logMsg("stdout", "from task\n", ts, attrs...)}
	res = env.docker(t, "", "service", "logs", "taskid000000000000000001")
	if res.stdout != "web.1.taskid000000@host1    | from task\n" {
		t.Errorf("task logs: %q %q", res.stdout, res.stderr)
	}
	res = env.docker(t, "", "service", "logs", "nothing")
	if res.code == 0 || !strings.Contains(res.stderr, "no such task or service: nothing") {
		t.Errorf("missing: rc %d %q", res.code, res.stderr)
	}
}

func TestSwarmLogsValidation(t *testing.T) {
	env := startEnv(t)
	env.cluster.services = []swarm.Service{{ID: "svcid", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "web"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{TTY: true}}}}}
	// No stream: dockerd answers 500 with this text for swarm logs.
	resp, body := env.do(t, "GET", "/services/web/logs", "", "")
	if resp.StatusCode != 500 || body != `{"message":"Bad parameters: you must choose at least one stream"}`+"\n" {
		t.Errorf("no stream: %d %s", resp.StatusCode, body)
	}
	resp, body = env.do(t, "GET", "/services/nope/logs?stdout=1", "", "")
	if resp.StatusCode != 404 || body != `{"message":"service nope not found"}`+"\n" {
		t.Errorf("missing: %d %s", resp.StatusCode, body)
	}
	resp, _ = env.do(t, "GET", "/tasks/nope/logs?stdout=1", "", "")
	if resp.StatusCode != 404 {
		t.Errorf("missing task: %d", resp.StatusCode)
	}
	// A TTY service is not multiplexed.
	resp, _ = env.do(t, "GET", "/v1.51/services/web/logs?stdout=1", "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.docker.raw-stream" {
		t.Errorf("tty: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
