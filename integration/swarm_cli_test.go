package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestSwarmLifecycleCLI walks the control-plane commands of a swarm user through the stock CLI:
// init, nodes, networks, services (create, scale, update, rollback, inspect), drain, labels, tokens,
// swarm update, and the removals, with what each prints and how each fails.
func TestSwarmLifecycleCLI(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})
	reg := harness.StartRegistry(t)
	imgs := harness.PushImages(t, reg)
	sleeper := imgs["sleeper:1"]

	// before init: swarm commands answer Docker's errors
	_, stderr, code := d.Docker(t, "swarm", "join-token", "worker")
	wantFail(t, "join-token outside a swarm", stderr, code,
		`This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`)
	_, stderr, code = d.Docker(t, "swarm", "leave")
	wantFail(t, "leave outside a swarm", stderr, code, "This node is not part of a swarm")

	out := d.MustDocker(t, "swarm", "init", "--advertise-addr", "127.0.0.1")
	if !strings.Contains(out, "Swarm initialized: current node (") || !strings.Contains(out, "docker swarm join --token SWMTKN-1-") {
		t.Fatalf("swarm init printed:\n%s", out)
	}
	_, stderr, code = d.Docker(t, "swarm", "init", "--advertise-addr", "127.0.0.1")
	wantFail(t, "second init", stderr, code, `This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.`)

	self := d.MustDocker(t, "info", "--format", "{{.Swarm.NodeID}}")
	if got := d.MustDocker(t, "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Nodes}} {{.Swarm.Managers}}"); got != "active true 1 1" {
		t.Errorf("info swarm section: %q", got)
	}
	nodes := d.MustDocker(t, "node", "ls")
	if !strings.Contains(nodes, self+" *") || !strings.Contains(nodes, "Ready") || !strings.Contains(nodes, "Leader") {
		t.Errorf("node ls:\n%s", nodes)
	}
	if got := d.MustDocker(t, "node", "inspect", "self", "--format", "{{.ID}} {{.Spec.Role}} {{.Spec.Availability}} {{.Status.State}}"); got != self+" manager active ready" {
		t.Errorf("node inspect self: %q", got)
	}

	// networks
	netID := d.MustDocker(t, "network", "create", "-d", "overlay", "test")
	if len(netID) != 25 {
		t.Errorf("network create printed %q, want a 25-char swarm ID", netID)
	}
	nets := d.MustDocker(t, "network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}")
	for _, want := range []string{"test overlay swarm", "ingress overlay swarm", "bridge bridge local", "host host local", "none null local"} {
		if !strings.Contains(nets, want) {
			t.Errorf("network ls lacks %q:\n%s", want, nets)
		}
	}
	if got := d.MustDocker(t, "network", "inspect", "test", "--format", "{{.Id}} {{.Scope}} {{.Driver}}"); got != netID+" swarm overlay" {
		t.Errorf("network inspect: %q", got)
	}
	_, stderr, code = d.Docker(t, "network", "create", "-d", "overlay", "test")
	wantFail(t, "duplicate network", stderr, code, "network with name test already exists")

	// services
	svcID := d.MustDocker(t, "service", "create", "-d", "--name", "web", "--replicas", "3", "--network", "test", sleeper)
	if len(svcID) != 25 {
		t.Fatalf("service create printed %q", svcID)
	}
	_, stderr, code = d.Docker(t, "service", "create", "-d", "--name", "web", sleeper)
	wantFail(t, "name conflict", stderr, code, "rpc error: code = AlreadyExists desc = name conflicts with an existing object: service web already exists")
	waitRunning(t, d, "web", 3)
	ls := d.MustDocker(t, "service", "ls", "--format", "{{.Name}} {{.Mode}} {{.Replicas}}")
	if ls != "web replicated 3/3" {
		t.Errorf("service ls: %q", ls)
	}
	ps := d.MustDocker(t, "service", "ps", "web", "--format", "{{.Name}} {{.DesiredState}} {{.CurrentState}}")
	if n := strings.Count(ps, "Running Running"); n != 3 {
		t.Errorf("service ps shows %d running tasks:\n%s", n, ps)
	}
	for _, slot := range []string{"web.1 ", "web.2 ", "web.3 "} {
		if !strings.Contains(ps, slot) {
			t.Errorf("service ps lacks %s:\n%s", slot, ps)
		}
	}

	d.MustDocker(t, "service", "update", "-d", "--replicas", "5", "web")
	waitRunning(t, d, "web", 5)
	if out := d.MustDocker(t, "service", "scale", "-d", "web=0"); !strings.Contains(out, "web scaled to 0") {
		t.Errorf("service scale printed %q", out)
	}
	waitRunning(t, d, "web", 0)
	d.MustDocker(t, "service", "scale", "-d", "web=2")
	waitRunning(t, d, "web", 2)
	pretty := d.MustDocker(t, "service", "inspect", "--pretty", "web")
	for _, want := range []string{"Name:\t\tweb", "Replicated", "Replicas:\t2", "Image:\t\t" + sleeper} {
		if !strings.Contains(pretty, want) {
			t.Errorf("inspect --pretty lacks %q:\n%s", want, pretty)
		}
	}

	// rolling update and rollback
	d.MustDocker(t, "service", "update", "-d", "--image", imgs["sleeper:latest"], "--update-parallelism", "2", "--update-delay", "1s", "web")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		st := d.MustDocker(t, "service", "inspect", "web", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}")
		return st == "completed", "update state " + st
	})
	if img := d.MustDocker(t, "service", "inspect", "web", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}} {{.PreviousSpec.TaskTemplate.ContainerSpec.Image}}"); !strings.HasPrefix(img, imgs["sleeper:latest"]) {
		t.Errorf("after update: %q", img)
	}
	d.MustDocker(t, "service", "rollback", "-d", "web")
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		st := d.MustDocker(t, "service", "inspect", "web", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}} {{.Spec.TaskTemplate.ContainerSpec.Image}}")
		return strings.HasPrefix(st, "rollback_completed "+sleeper), st
	})

	// nodes: labels and drain
	d.MustDocker(t, "node", "update", "--label-add", "zone=a", self)
	if got := d.MustDocker(t, "node", "inspect", self, "--format", "{{.Spec.Labels.zone}}"); got != "a" {
		t.Errorf("node label: %q", got)
	}
	d.MustDocker(t, "node", "update", "--availability", "drain", self)
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		ps := d.MustDocker(t, "service", "ps", "web", "--filter", "desired-state=running", "--format", "{{.CurrentState}}|{{.Error}}")
		return strings.Count(ps, "Pending") == 2 && strings.Contains(ps, "no suitable node"), ps
	})
	d.MustDocker(t, "node", "update", "--availability", "active", self)
	waitRunning(t, d, "web", 2)

	// tokens and swarm settings
	tok := d.MustDocker(t, "swarm", "join-token", "-q", "worker")
	if !strings.HasPrefix(tok, "SWMTKN-1-") {
		t.Fatalf("worker token %q", tok)
	}
	full := d.MustDocker(t, "swarm", "join-token", "worker")
	if !strings.Contains(full, "docker swarm join --token "+tok+" 127.0.0.1:2377") {
		t.Errorf("join-token worker:\n%s", full)
	}
	d.MustDocker(t, "swarm", "join-token", "--rotate", "worker")
	if again := d.MustDocker(t, "swarm", "join-token", "-q", "worker"); again == tok || !strings.HasPrefix(again, tok[:60]) {
		t.Errorf("rotated token %q (was %q): the secret must change, the CA digest must not", again, tok)
	}
	d.MustDocker(t, "swarm", "update", "--task-history-limit", "3")
	if got := d.MustDocker(t, "info", "--format", "{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}"); got != "3" {
		t.Errorf("task history limit %q", got)
	}
	if out := d.MustDocker(t, "plugin", "ls"); !strings.HasPrefix(out, "ID") || strings.Count(out, "\n") != 0 {
		t.Errorf("plugin ls: %q", out)
	}
	_, stderr, code = d.Docker(t, "swarm", "update", "--cert-expiry", "59m")
	wantFail(t, "short cert expiry", stderr, code, "Error response from daemon: rpc error: code = InvalidArgument desc = minimum certificate expiry time is: 1h0m0s")
	_, stderr, code = d.Docker(t, "swarm", "update", "--dispatcher-heartbeat", "-5s")
	wantFail(t, "negative heartbeat", stderr, code, "Error response from daemon: rpc error: code = InvalidArgument desc = heartbeat time period cannot be a negative duration")
	if got := d.MustDocker(t, "info", "--format", "{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}} {{.Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}"); got != "2160h0m0s 5s" {
		t.Errorf("swarm spec after refused updates: %q", got)
	}

	// removals and their refusals
	_, stderr, code = d.Docker(t, "network", "rm", "test")
	wantFail(t, "network in use", stderr, code, "is in use by service")
	_, stderr, code = d.Docker(t, "swarm", "leave")
	wantFail(t, "leave last manager", stderr, code, "You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.")
	if out := d.MustDocker(t, "service", "rm", "web"); out != "web" {
		t.Errorf("service rm printed %q", out)
	}
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		_, _, code := d.Docker(t, "network", "rm", "test")
		return code == 0, "network rm test still refused"
	})
	if out := d.MustDocker(t, "swarm", "leave", "--force"); out != "Node left the swarm." {
		t.Errorf("leave printed %q", out)
	}
	if got := d.MustDocker(t, "info", "--format", "{{.Swarm.LocalNodeState}}"); got != "inactive" {
		t.Errorf("after leave: %q", got)
	}
}

// TestAPIErrorsRaw checks what curl-level clients see: version bounds, malformed JSON, bad filters,
// stale versions.
func TestAPIErrorsRaw(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})
	d.MustDocker(t, "swarm", "init", "--advertise-addr", "127.0.0.1")
	c := &http.Client{Transport: &http.Transport{DialContext: nil, Dial: func(_, _ string) (net.Conn, error) {
		return net.Dial("unix", d.Socket)
	}}, Timeout: 30 * time.Second}
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://docker"+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m struct{ Message string }
		if json.Unmarshal(b, &m) != nil {
			m.Message = strings.TrimSpace(string(b)) // API < 1.24 gets plain-text errors, as from dockerd
		}
		return resp.StatusCode, m.Message
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/v1.12/info", "", 400, "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"},
		{"GET", "/v1.99/info", "", 400, "client version 1.99 is too new. Maximum supported API version is 1.51"},
		{"POST", "/v1.51/services/create", `{"Name":`, 400, "invalid JSON: unexpected EOF"},
		{"GET", `/v1.51/services?filters={"nope":{"x":true}}`, "", 400, "invalid filter 'nope'"},
		{"GET", "/v1.51/services/nope", "", 404, "service nope not found"},
		{"GET", "/v1.51/nope", "", 404, "page not found"},
		{"POST", "/v1.51/services/create", ``, 400, "mismatched Runtime and *Spec fields"},
	} {
		status, msg := do(tc.method, tc.path, tc.body)
		if status != tc.status || msg != tc.msg {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, status, msg, tc.status, tc.msg)
		}
	}
	// a stale version: create, update once, update again with the first version
	status, _ := do("POST", "/v1.51/services/create", `{"Name":"s","TaskTemplate":{"ContainerSpec":{"Image":"img:1"}},"Mode":{"Replicated":{"Replicas":0}}}`)
	if status != 201 {
		t.Fatalf("create: %d", status)
	}
	var svc struct {
		Version struct{ Index uint64 }
		Spec    json.RawMessage
	}
	out := d.MustDocker(t, "service", "inspect", "s", "--format", "{{json .}}")
	if err := json.Unmarshal([]byte(out), &svc); err != nil {
		t.Fatal(err)
	}
	v := svc.Version.Index
	if status, msg := do("POST", fmt.Sprintf("/v1.51/services/s/update?version=%d", v), string(svc.Spec)); status != 200 {
		t.Fatalf("first update: %d %s", status, msg)
	}
	status, msg := do("POST", fmt.Sprintf("/v1.51/services/s/update?version=%d", v), string(svc.Spec))
	if status != 500 || msg != "rpc error: code = Unknown desc = update out of sequence" {
		t.Errorf("stale update: %d %q", status, msg)
	}
}

// TestStateSurvivesSIGKILL: the swarm, its services, networks and task history come back after kill -9,
// and the running task containers are adopted, not replaced.
func TestStateSurvivesSIGKILL(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})
	reg := harness.StartRegistry(t)
	imgs := harness.PushImages(t, reg)
	d.MustDocker(t, "swarm", "init", "--advertise-addr", "127.0.0.1")
	d.MustDocker(t, "network", "create", "-d", "overlay", "keep")
	d.MustDocker(t, "service", "create", "-d", "--name", "kept", "--replicas", "2", "--network", "keep", imgs["sleeper:1"])
	waitRunning(t, d, "kept", 2)
	d.MustDocker(t, "service", "update", "-d", "--env-add", "A=1", "kept")
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		st := d.MustDocker(t, "service", "inspect", "kept", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}")
		return st == "completed", "update state " + st
	})
	waitRunning(t, d, "kept", 2)
	before := d.MustDocker(t, "service", "inspect", "kept", "--format", "{{.ID}} {{.Version.Index}} {{.Spec.TaskTemplate.ContainerSpec.Env}}")
	history := d.MustDocker(t, "service", "ps", "-q", "kept")
	running := d.MustDocker(t, "service", "ps", "-q", "--filter", "desired-state=running", "kept")
	if n := len(strings.Fields(history)); n != 4 {
		t.Fatalf("task history before the kill has %d tasks, want 4 (2 running, 2 shut down by the update):\n%s", n, history)
	}
	nodeID := d.MustDocker(t, "info", "--format", "{{.Swarm.NodeID}}")
	d.Kill()
	d.Start()
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		out, _, code := d.Docker(t, "service", "inspect", "kept", "--format", "{{.ID}} {{.Version.Index}} {{.Spec.TaskTemplate.ContainerSpec.Env}}")
		return code == 0 && strings.TrimSpace(out) == before, "after restart: " + out
	})
	if got := d.MustDocker(t, "info", "--format", "{{.Swarm.NodeID}} {{.Swarm.LocalNodeState}}"); got != nodeID+" active" {
		t.Errorf("node after restart: %q", got)
	}
	if got := d.MustDocker(t, "network", "inspect", "keep", "--format", "{{.Name}}"); got != "keep" {
		t.Errorf("network after restart: %q", got)
	}
	if got := d.MustDocker(t, "service", "ps", "-q", "kept"); got != history {
		t.Errorf("task history after restart:\n%s\nwant:\n%s", got, history)
	}
	waitRunning(t, d, "kept", 2)
	if got := d.MustDocker(t, "service", "ps", "-q", "--filter", "desired-state=running", "kept"); got != running {
		t.Errorf("running tasks after restart:\n%s\nwant the same as before:\n%s", got, running)
	}
}

func wantFail(t *testing.T, what, stderr string, code int, msg string) {
	t.Helper()
	if code == 0 {
		t.Errorf("%s: succeeded, want failure %q", what, msg)
		return
	}
	if !strings.Contains(stderr, msg) {
		t.Errorf("%s: stderr %q, want it to contain %q", what, stderr, msg)
	}
}

// waitRunning waits until a service has exactly n running tasks and says so in service ls.
func waitRunning(t *testing.T, d *harness.Daemon, svc string, n int) {
	t.Helper()
	harness.Eventually(t, 90*time.Second, func() (bool, string) {
		out, _, _ := d.Docker(t, "service", "ls", "--filter", "name="+svc, "--format", "{{.Replicas}}")
		return strings.HasPrefix(strings.TrimSpace(out), fmt.Sprintf("%d/%d", n, n)), "service ls: " + out
	})
}
