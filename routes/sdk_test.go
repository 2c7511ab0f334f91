package routes

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/backend"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/docker/docker/pkg/stdcopy"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSDKSystem(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)

	p, err := c.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.APIVersion != "1.51" || p.OSType != "linux" || p.SwarmStatus == nil ||
		p.SwarmStatus.NodeState != swarm.LocalNodeStateActive || p.SwarmStatus.ControlAvailable != true {
		t.Errorf("ping %+v %+v", p, p.SwarmStatus)
	}
	v, err := c.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "test-1.0" || v.APIVersion != "1.51" || v.MinAPIVersion != "1.24" || v.GitCommit != "abc123" {
		t.Errorf("version %+v", v)
	}
	if c.ClientVersion() != "1.51" {
		t.Errorf("negotiated %s", c.ClientVersion())
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Swarm.NodeID != "node1id" || !info.Swarm.ControlAvailable || info.Name != "testhost" {
		t.Errorf("info %+v", info.Swarm)
	}
	if strings.Join(info.Warnings, "|") != "WARNING: from system|WARNING: from swarm" {
		t.Errorf("warnings %v", info.Warnings)
	}
}

func TestSDKSwarm(t *testing.T) {
	env := startEnv(t)
	env.cluster.info = swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive}
	c, ctx := env.sdk(t), testCtx(t)

	id, err := c.SwarmInit(ctx, swarm.InitRequest{ListenAddr: "0.0.0.0:2377", DataPathPort: 4789, SubnetSize: 24})
	if err != nil || id != "node1id" {
		t.Fatalf("init %q %v", id, err)
	}
	if env.cluster.last.initReq.DataPathPort != 4789 {
		t.Errorf("init request %+v", env.cluster.last.initReq)
	}
	_, err = c.SwarmInit(ctx, swarm.InitRequest{})
	if !cerrdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "This node is already part of a swarm") {
		t.Errorf("second init: %v", err)
	}
	sw, err := c.SwarmInspect(ctx)
	if err != nil || sw.ID != "clusterid" {
		t.Fatalf("inspect %+v %v", sw, err)
	}
	if err := c.SwarmUpdate(ctx, sw.Version, sw.Spec, swarm.UpdateFlags{RotateWorkerToken: true}); err != nil {
		t.Fatal(err)
	}
	if env.cluster.last.updateVersion != 7 || !env.cluster.last.swarmFlags.RotateWorkerToken || env.cluster.last.swarmFlags.RotateManagerToken {
		t.Errorf("update got %d %+v", env.cluster.last.updateVersion, env.cluster.last.swarmFlags)
	}
	key, err := c.SwarmGetUnlockKey(ctx)
	if err != nil || key.UnlockKey != "SWMKEY-1-x" {
		t.Errorf("unlock key %+v %v", key, err)
	}
	if err := c.SwarmUnlock(ctx, swarm.UnlockRequest{UnlockKey: "k"}); !cerrdefs.IsConflict(err) {
		t.Errorf("unlock: %v", err)
	}
	if err := c.SwarmLeave(ctx, true); err != nil || env.cluster.calls[len(env.cluster.calls)-1] != "Leave true" {
		t.Errorf("leave %v %v", err, env.cluster.calls)
	}
}

func TestSDKServices(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)

	// Empty lists are [] on the wire, never null.
	for _, path := range []string{"/services", "/tasks", "/nodes", "/secrets", "/configs", "/containers/json"} {
		if _, body := env.do(t, "GET", path, "", ""); body != "[]\n" {
			t.Errorf("%s: %q", path, body)
		}
	}

	replicas := uint64(2)
	spec := swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "web"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "busybox:1"}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}}}
	resp, err := c.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{EncodedRegistryAuth: "e30="})
	if err != nil || resp.ID == "" {
		t.Fatalf("create %+v %v", resp, err)
	}
	if env.cluster.last.encodedAuth != "e30=" {
		t.Errorf("auth %q", env.cluster.last.encodedAuth)
	}
	_, err = c.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	if !cerrdefs.IsConflict(err) || !strings.Contains(err.Error(), "name conflicts with an existing object: service web already exists") {
		t.Errorf("duplicate: %v", err)
	}

	list, err := c.ServiceList(ctx, swarm.ServiceListOptions{Status: true, Filters: filters.NewArgs(filters.Arg("name", "web"))})
	if err != nil || len(list) != 1 {
		t.Fatalf("list %v %v", list, err)
	}
	if !env.cluster.last.serviceOpts.Status {
		t.Error("status=true not passed")
	}

	svc, _, err := c.ServiceInspectWithRaw(ctx, "web", swarm.ServiceInspectOptions{InsertDefaults: true})
	if err != nil || svc.ID != resp.ID {
		t.Fatalf("inspect %v", err)
	}
	_, _, err = c.ServiceInspectWithRaw(ctx, "nope", swarm.ServiceInspectOptions{})
	if !cerrdefs.IsNotFound(err) || err.Error() != "Error response from daemon: service nope not found" {
		t.Errorf("not found: %v", err)
	}

	if _, err := c.ServiceUpdate(ctx, svc.ID, svc.Version, svc.Spec, swarm.ServiceUpdateOptions{RegistryAuthFrom: "spec", Rollback: "previous"}); err != nil {
		t.Fatal(err)
	}
	if env.cluster.last.updateVersion != 10 || env.cluster.last.updateOpts.Rollback != "previous" || env.cluster.last.updateOpts.RegistryAuthFrom != "spec" {
		t.Errorf("update got %d %+v", env.cluster.last.updateVersion, env.cluster.last.updateOpts)
	}
	// Stale version: the backend's unclassified error is a 500 with its text, as dockerd.
	resp2, body := env.do(t, "POST", "/v1.41/services/"+svc.ID+"/update?version=10", "application/json", `{"Name":"web"}`)
	if resp2.StatusCode != 500 || body != `{"message":"rpc error: code = Unknown desc = update out of sequence"}`+"\n" {
		t.Errorf("stale update: %d %s", resp2.StatusCode, body)
	}
	resp3, body := env.do(t, "POST", "/v1.41/services/"+svc.ID+"/update?version=11", "application/json", `{"Name":"web"}`)
	if resp3.StatusCode != 200 || body != `{"Warnings":null}`+"\n" {
		t.Errorf("update body: %d %q", resp3.StatusCode, body)
	}

	// DELETE answers 200 with an empty body.
	resp4, body := env.do(t, "DELETE", "/v1.41/services/web", "", "")
	if resp4.StatusCode != 200 || body != "" {
		t.Errorf("remove: %d %q", resp4.StatusCode, body)
	}
	if err := c.ServiceRemove(ctx, "web"); !cerrdefs.IsNotFound(err) {
		t.Errorf("second remove: %v", err)
	}
}

func TestSDKNodesTasksSecretsConfigs(t *testing.T) {
	env := startEnv(t)
	env.cluster.nodes = []swarm.Node{{ID: "node1id", Description: swarm.NodeDescription{Hostname: "host1"}}}
	env.cluster.tasks = []swarm.Task{{ID: "task1id", ServiceID: "svc", Slot: 1}}
	c, ctx := env.sdk(t), testCtx(t)

	nodes, err := c.NodeList(ctx, swarm.NodeListOptions{Filters: filters.NewArgs(filters.Arg("role", "manager"))})
	if err != nil || len(nodes) != 1 || env.cluster.last.nodeOpts.Filters.Get("role")[0] != "manager" {
		t.Fatalf("nodes %v %v", nodes, err)
	}
	n, _, err := c.NodeInspectWithRaw(ctx, "host1")
	if err != nil || n.ID != "node1id" {
		t.Fatalf("node %v", err)
	}
	if err := c.NodeUpdate(ctx, "node1id", swarm.Version{Index: 5}, swarm.NodeSpec{Availability: swarm.NodeAvailabilityDrain}); err != nil {
		t.Fatal(err)
	}
	if err := c.NodeRemove(ctx, "node1id", swarm.NodeRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"UpdateNode node1id 5 drain", "RemoveNode node1id true"}
	if strings.Join(env.cluster.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls %v", env.cluster.calls)
	}

	tasks, err := c.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("_up-to-date", "true"), filters.Arg("service", "svc"))})
	if err != nil || len(tasks) != 1 || !env.cluster.last.taskOpts.Filters.Contains("_up-to-date") {
		t.Fatalf("tasks %v %v", tasks, err)
	}
	if _, _, err := c.TaskInspectWithRaw(ctx, "task1"); err != nil {
		t.Fatal(err)
	}

	sec, err := c.SecretCreate(ctx, swarm.SecretSpec{Annotations: swarm.Annotations{Name: "s"}, Data: []byte("x")})
	if err != nil || sec.ID == "" {
		t.Fatalf("secret %v", err)
	}
	resp, body := env.do(t, "POST", "/secrets/create", "application/json", `{"Name":"s2","Data":"eA=="}`)
	if resp.StatusCode != 201 || !strings.HasPrefix(body, `{"ID":"sec`) {
		t.Errorf("secret create: %d %s", resp.StatusCode, body)
	}
	resp, body = env.do(t, "POST", "/secrets/create", "application/json", `{"Name":"s3","Data":"!!"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "illegal base64 data at input byte 0") {
		t.Errorf("bad base64: %d %s", resp.StatusCode, body)
	}
	if err := c.SecretUpdate(ctx, sec.ID, swarm.Version{Index: 3}, swarm.SecretSpec{}); err != nil {
		t.Fatal(err)
	}
	resp, body = env.do(t, "DELETE", "/secrets/s", "", "")
	if resp.StatusCode != 204 || body != "" {
		t.Errorf("secret rm: %d %q", resp.StatusCode, body)
	}
	if _, _, err := c.SecretInspectWithRaw(ctx, "s"); !cerrdefs.IsNotFound(err) || !strings.Contains(err.Error(), "secret s not found") {
		t.Errorf("secret inspect: %v", err)
	}

	cfg, err := c.ConfigCreate(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "c"}, Data: []byte("x")})
	if err != nil || cfg.ID == "" {
		t.Fatalf("config %v", err)
	}
	if _, _, err := c.ConfigInspectWithRaw(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigRemove(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	resp, _ = env.do(t, "DELETE", "/configs/c", "", "")
	if resp.StatusCode != 204 {
		t.Errorf("config rm: %d", resp.StatusCode)
	}
}

func TestSDKNetworks(t *testing.T) {
	env := startEnv(t)
	env.cluster.networks = []network.Inspect{
		{ID: "ingressid0000000000000000", Name: "ingress", Driver: "overlay", Scope: "swarm", Ingress: true},
		{ID: "usedid0000000000000000000", Name: "used", Driver: "overlay", Scope: "swarm", Services: map[string]network.ServiceInfo{"x": {}}},
	}
	c, ctx := env.sdk(t), testCtx(t)

	created, err := c.NetworkCreate(ctx, "front", network.CreateOptions{Driver: "overlay", Attachable: true})
	if err != nil || created.ID == "" || created.Warning != "" {
		t.Fatalf("create %+v %v", created, err)
	}
	resp, body := env.do(t, "POST", "/networks/create", "application/json", `{"Name":"back","Driver":"overlay"}`)
	if resp.StatusCode != 201 || !strings.HasPrefix(body, `{"Id":"net`) || !strings.HasSuffix(body, `","Warning":""}`+"\n") {
		t.Errorf("create body: %d %s", resp.StatusCode, body)
	}
	for _, tt := range []struct {
		name    string
		status  int
		message string
	}{
		{"bridge", 403, "bridge is a pre-defined network and cannot be created"},
		{"none", 403, "none is a pre-defined network and cannot be created"},
		{"front", 409, "network with name front already exists"},
	} {
		resp, body := env.do(t, "POST", "/v1.41/networks/create", "application/json", `{"Name":"`+tt.name+`","Driver":"overlay"}`)
		if resp.StatusCode != tt.status || body != `{"message":"`+tt.message+`"}`+"\n" {
			t.Errorf("create %s: %d %s", tt.name, resp.StatusCode, body)
		}
	}

	list, err := c.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, nw := range list {
		names = append(names, nw.Name)
	}
	if strings.Join(names, ",") != "ingress,used,front,back,bridge,host,none" {
		t.Errorf("list %v", names)
	}
	list, err = c.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("scope", "swarm"), filters.Arg("driver", "overlay"), filters.Arg("name", "ro"))})
	if err != nil || len(list) != 1 || list[0].Name != "front" {
		t.Errorf("filtered list %v %v", list, err)
	}
	if _, body := env.do(t, "GET", "/networks?filters="+url.QueryEscape(`{"name":{"nothing":true}}`), "", ""); body != "[]\n" {
		t.Errorf("empty list: %q", body)
	}

	for _, tt := range []struct{ ref, wantName string }{{"bridge", "bridge"}, {"b1b1", "bridge"}, {"front", "front"}, {"ingressid", "ingress"}} {
		nw, err := c.NetworkInspect(ctx, tt.ref, network.InspectOptions{})
		if err != nil || nw.Name != tt.wantName {
			t.Errorf("inspect %s: %v %v", tt.ref, nw.Name, err)
		}
	}
	if _, err := c.NetworkInspect(ctx, "front", network.InspectOptions{Scope: "local"}); !cerrdefs.IsNotFound(err) {
		t.Errorf("scoped inspect: %v", err)
	}
	_, err = c.NetworkInspect(ctx, "nope", network.InspectOptions{})
	if !cerrdefs.IsNotFound(err) || err.Error() != "Error response from daemon: network nope not found" {
		t.Errorf("missing: %v", err)
	}
	resp, body = env.do(t, "GET", "/networks/net?verbose=maybe", "", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "invalid value for verbose: maybe") {
		t.Errorf("verbose: %d %s", resp.StatusCode, body)
	}
	resp, body = env.do(t, "GET", "/networks/net", "", "")
	if resp.StatusCode != 400 || body != `{"message":"2 matches found based on ID prefix: network net is ambiguous"}`+"\n" {
		t.Errorf("ambiguous inspect: %d %s", resp.StatusCode, body)
	}
	resp, body = env.do(t, "POST", "/networks/create", "application/json", `{"Name":"x","Driver":"foo"}`)
	if resp.StatusCode != 404 || body != `{"message":"plugin \"foo\" not found"}`+"\n" {
		t.Errorf("unknown driver: %d %s", resp.StatusCode, body)
	}
	resp, body = env.do(t, "DELETE", "/networks/net", "", "")
	if resp.StatusCode != 400 || body != `{"message":"network net is ambiguous (2 matches found based on ID prefix)"}`+"\n" {
		t.Errorf("ambiguous rm: %d %s", resp.StatusCode, body)
	}

	resp, body = env.do(t, "DELETE", "/networks/bridge", "", "")
	if resp.StatusCode != 403 || !strings.Contains(body, "bridge is a pre-defined network and cannot be removed") {
		t.Errorf("rm bridge: %d %s", resp.StatusCode, body)
	}
	if err := c.NetworkRemove(ctx, "front"); err != nil {
		t.Fatal(err)
	}
	if got := env.cluster.calls[len(env.cluster.calls)-1]; got != "RemoveNetwork "+created.ID {
		t.Errorf("removed %s", got)
	}

	report, err := c.NetworksPrune(ctx, filters.Args{})
	if err != nil || strings.Join(report.NetworksDeleted, ",") != "back" {
		t.Errorf("prune %v %v", report, err)
	}
	resp, body = env.do(t, "POST", "/networks/prune?filters="+url.QueryEscape(`{"driver":{"x":true}}`), "", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "invalid filter 'driver'") {
		t.Errorf("prune filter: %d %s", resp.StatusCode, body)
	}
}

func TestSDKImages(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)

	// Names with a registry port and slashes reach the backend whole.
	auth, _ := registry.EncodeAuthConfig(registry.AuthConfig{Username: "u", Password: "p"})
	if _, err := c.DistributionInspect(ctx, "127.0.0.1:5000/team/whoami:1", auth); err != nil {
		t.Fatal(err)
	}
	if env.images.distRef != "127.0.0.1:5000/team/whoami:1" || env.images.distAuth.Username != "u" {
		t.Errorf("distribution got %q %+v", env.images.distRef, env.images.distAuth)
	}
	if _, err := c.DistributionInspect(ctx, "busybox", ""); err != nil || env.images.distRef != "docker.io/library/busybox" {
		t.Errorf("distribution busybox: %v %q", err, env.images.distRef)
	}
	resp, body := env.do(t, "GET", "/distribution/UPPER/json", "", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "repository name (library/UPPER) must be lowercase") {
		t.Errorf("bad ref: %d %s", resp.StatusCode, body)
	}

	if _, err := c.ImageInspect(ctx, "127.0.0.1:5000/team/whoami:1"); err != nil || env.images.inspectRef != "127.0.0.1:5000/team/whoami:1" {
		t.Errorf("inspect: %v %q", err, env.images.inspectRef)
	}
	resp, body = env.do(t, "GET", "/images/missing/json", "", "")
	if resp.StatusCode != 404 || body != `{"message":"No such image: missing"}`+"\n" {
		t.Errorf("missing image: %d %s", resp.StatusCode, body)
	}
	if _, body := env.do(t, "GET", "/images/sha256:bbb/json", "", ""); !strings.Contains(body, `"RepoTags":[]`) {
		t.Errorf("RepoTags must be []: %s", body)
	}
	del, err := c.ImageRemove(ctx, "127.0.0.1:5000/team/whoami:1", image.RemoveOptions{})
	if err != nil || len(del) != 1 || del[0].Untagged != "127.0.0.1:5000/team/whoami:1" {
		t.Errorf("remove %v %v", del, err)
	}
	imgs, err := c.ImageList(ctx, image.ListOptions{})
	if err != nil || len(imgs) != 1 || imgs[0].RepoTags == nil {
		t.Errorf("list %v %v", imgs, err)
	}

	// A pull streams JSON progress; the reference is normalised with its tag.
	rc, err := c.ImagePull(ctx, "busybox:1.36", image.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := jsonmessage.DisplayJSONMessagesStream(rc, &out, 0, false, nil); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if !strings.Contains(out.String(), "Downloaded newer image for docker.io/library/busybox:1.36") {
		t.Errorf("pull output %q", out.String())
	}
	// Failing before any output: a real status code.
	if _, err := c.ImagePull(ctx, "fail/early", image.PullOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("early failure: %v", err)
	}
	// Failing mid-stream: 200, then an error message in the stream.
	rc, err = c.ImagePull(ctx, "fail/late:2", image.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil)
	rc.Close()
	if err == nil || err.Error() != "unexpected EOF while downloading" {
		t.Errorf("late failure: %v", err)
	}
	if got := strings.Join(env.images.pulled, ","); got != "docker.io/library/busybox:1.36,docker.io/fail/early:latest,docker.io/fail/late:2" {
		t.Errorf("pulled %s", got)
	}

	// Load reports errors in the stream.
	lr, err := c.ImageLoad(ctx, strings.NewReader("tarball"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(lr.Body)
	lr.Body.Close()
	if !strings.Contains(string(b), "Loaded image: x:1") {
		t.Errorf("load %q", b)
	}
	resp, body = env.do(t, "POST", "/images/load", "application/x-tar", "garbage")
	if resp.StatusCode != 200 || !strings.Contains(body, `"errorDetail":{"message":"unexpected EOF"}`) {
		t.Errorf("bad load: %d %s", resp.StatusCode, body)
	}
}

func TestSDKContainers(t *testing.T) {
	env := startEnv(t)
	c, ctx := env.sdk(t), testCtx(t)

	if _, err := c.ContainerInspect(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerInspect(ctx, "zz"); !cerrdefs.IsNotFound(err) {
		t.Errorf("inspect missing: %v", err)
	}
	if err := c.ContainerKill(ctx, "c1", "HUP"); err != nil {
		t.Fatal(err)
	}
	resp, body := env.do(t, "POST", "/containers/zz/kill", "", "")
	if resp.StatusCode != 404 || body != `{"message":"cannot kill container: zz: No such container: zz"}`+"\n" {
		t.Errorf("kill missing: %d %s", resp.StatusCode, body)
	}
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/containers/c1/stop?t=1", 204}, {"/containers/stopped/stop", 304}, {"/containers/c1/restart", 204},
	} {
		if resp, _ := env.do(t, "POST", tt.path, "", ""); resp.StatusCode != tt.status {
			t.Errorf("%s: %d", tt.path, resp.StatusCode)
		}
	}
	if resp, _ := env.do(t, "DELETE", "/containers/c1?force=1&v=1", "", ""); resp.StatusCode != 204 {
		t.Errorf("rm: %d", resp.StatusCode)
	}
	if top, err := c.ContainerTop(ctx, "c1", nil); err != nil || len(top.Processes) != 1 {
		t.Errorf("top %v %v", top, err)
	}
	st, err := c.ContainerStatsOneShot(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(st.Body)
	st.Body.Close()
	if string(b) != "{\"id\":\"c1\"}\n" {
		t.Errorf("stats %q", b)
	}
	if _, err := c.ContainerStats(ctx, "zz", false); !cerrdefs.IsNotFound(err) {
		t.Errorf("stats missing: %v", err)
	}
}

func TestSDKLogs(t *testing.T) {
	env := startEnv(t)
	ts := time.Date(2026, 1, 2, 3, 4, 5, 60, time.UTC)
	env.containers.logs = []*backend.LogMessage{
		logMsg("stdout", "out line\n", ts),
		logMsg("stderr", "err line\n", ts),
	}
	c, ctx := env.sdk(t), testCtx(t)

	rc, err := c.ContainerLogs(ctx, "c1", container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if stdout.String() != "2026-01-02T03:04:05.000000060Z out line\n" || stderr.String() != "2026-01-02T03:04:05.000000060Z err line\n" {
		t.Errorf("logs %q %q", stdout.String(), stderr.String())
	}
	resp, _ := env.do(t, "GET", "/v1.41/containers/c1/logs?stdout=1", "", "")
	if resp.Header.Get("Content-Type") != "application/vnd.docker.raw-stream" {
		t.Errorf("1.41 content type %q", resp.Header.Get("Content-Type"))
	}
	resp, _ = env.do(t, "GET", "/v1.42/containers/c1/logs?stdout=1", "", "")
	if resp.Header.Get("Content-Type") != "application/vnd.docker.multiplexed-stream" {
		t.Errorf("1.42 content type %q", resp.Header.Get("Content-Type"))
	}
	resp, body := env.do(t, "GET", "/containers/c1/logs", "", "")
	if resp.StatusCode != 400 || body != `{"message":"Bad parameters: you must choose at least one stream"}`+"\n" {
		t.Errorf("no stream: %d %s", resp.StatusCode, body)
	}

	env.containers.tty = true
	resp, body = env.do(t, "GET", "/containers/c1/logs?stdout=1&stderr=1", "", "")
	if resp.Header.Get("Content-Type") != "application/vnd.docker.raw-stream" || body != "out line\nerr line\n" {
		t.Errorf("tty logs: %q %q", resp.Header.Get("Content-Type"), body)
	}
}

// TestInfoVersionAdjust checks that old API versions get the old /info shape.
func TestInfoVersionAdjust(t *testing.T) {
	env := startEnv(t)
	_, body := env.do(t, "GET", "/v1.41/info", "", "")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["Containerd"]; ok {
		t.Errorf("Containerd sent to 1.41: %s", body)
	}
	_, body = env.do(t, "GET", "/v1.51/info", "", "")
	if !strings.Contains(body, `"Containerd":{"Address":"/run/x"`) {
		t.Errorf("Containerd missing from 1.51: %s", body)
	}
	if sw, _ := m["Swarm"].(map[string]any); sw["NodeID"] != "node1id" {
		t.Errorf("swarm %v", m["Swarm"])
	}
}
