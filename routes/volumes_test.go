package routes

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"

	"github.com/shoal-project/shoal/openapi"
)

// fakeVolumes is an in-memory VolumeBackend with the local driver's texts. users maps a volume to
// the containers using it.
type fakeVolumes struct {
	mu           sync.Mutex
	vols         []*volume.Volume
	users        map[string][]string
	anon         int
	pruneFilters filters.Args
	removed      []string
}

func (f *fakeVolumes) find(name string) (int, error) {
	for i, v := range f.vols {
		if v.Name == name {
			return i, nil
		}
	}
	return -1, errdefs.NotFound(fmt.Errorf("get %s: no such volume", name))
}

func (f *fakeVolumes) Volumes(_ context.Context, fl filters.Args) ([]*volume.Volume, []string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*volume.Volume // nil when empty: the routes must still answer []
	for _, v := range f.vols {
		if fl.Contains("name") && !fl.Match("name", v.Name) || !fl.MatchKVList("label", v.Labels) {
			continue
		}
		if fl.Contains("dangling") && fl.ExactMatch("dangling", "true") != (len(f.users[v.Name]) == 0) {
			continue
		}
		cp := *v
		out = append(out, &cp)
	}
	return out, nil, nil
}

func (f *fakeVolumes) VolumeInspect(_ context.Context, name string) (*volume.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(name)
	if err != nil {
		return nil, err
	}
	cp := *f.vols[i]
	return &cp, nil
}

func (f *fakeVolumes) VolumeCreate(_ context.Context, req volume.CreateOptions) (*volume.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Driver != "" && req.Driver != "local" {
		return nil, errdefs.NotFound(fmt.Errorf("create %s: error looking up volume plugin %s: plugin %q not found", req.Name, req.Driver, req.Driver))
	}
	labels := map[string]string{}
	for k, v := range req.Labels {
		labels[k] = v
	}
	name := req.Name
	if name == "" {
		f.anon++
		name = strings.Repeat(fmt.Sprint(f.anon), 64)
		labels["com.docker.volume.anonymous"] = ""
	}
	if i, err := f.find(name); err == nil {
		cp := *f.vols[i]
		return &cp, nil
	}
	opts := map[string]string{}
	for k, v := range req.DriverOpts {
		opts[k] = v
	}
	v := &volume.Volume{Name: name, Driver: "local", Mountpoint: "/var/lib/shoal/volumes/" + name + "/_data",
		CreatedAt: "2026-01-02T03:04:05Z", Labels: labels, Options: opts, Scope: "local"}
	f.vols = append(f.vols, v)
	cp := *v
	return &cp, nil
}

func (f *fakeVolumes) VolumeRemove(_ context.Context, name string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(name)
	if err != nil {
		if force {
			return nil
		}
		return err
	}
	if u := f.users[name]; len(u) > 0 {
		return errdefs.Conflict(fmt.Errorf("remove %s: volume is in use - [%s]", name, strings.Join(u, ", ")))
	}
	f.vols = append(f.vols[:i], f.vols[i+1:]...)
	f.removed = append(f.removed, name)
	return nil
}

// VolumesPrune removes the unused volumes with the anonymous label, all unused ones with all=true.
func (f *fakeVolumes) VolumesPrune(_ context.Context, fl filters.Args) (*volume.PruneReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneFilters = fl
	rep := &volume.PruneReport{VolumesDeleted: []string{}}
	var kept []*volume.Volume
	for _, v := range f.vols {
		_, anon := v.Labels["com.docker.volume.anonymous"]
		if len(f.users[v.Name]) == 0 && (anon || fl.Contains("all") && fl.ExactMatch("all", "true")) {
			rep.VolumesDeleted = append(rep.VolumesDeleted, v.Name)
			rep.SpaceReclaimed += 1000
			continue
		}
		kept = append(kept, v)
	}
	f.vols = kept
	return rep, nil
}

func (f *fakeVolumes) VolumesDiskUsage(context.Context) ([]*volume.Volume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*volume.Volume
	for _, v := range f.vols {
		cp := *v
		cp.UsageData = &volume.UsageData{Size: 12345, RefCount: int64(len(f.users[v.Name]))}
		out = append(out, &cp)
	}
	return out, nil
}

// contractCheck checks raw responses against the Engine API swagger.
func contractCheck(t *testing.T) func(method, path string, resp *http.Response, body string) {
	t.Helper()
	c, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	return func(method, path string, resp *http.Response, body string) {
		t.Helper()
		if err := c.CheckResponse(method, path, resp.StatusCode, resp.Header, []byte(body)); err != nil {
			t.Errorf("contract: %v\n%s", err, body)
		}
	}
}

// TestCLIVolumes drives the volume commands of the stock CLI.
func TestCLIVolumes(t *testing.T) {
	env := startEnv(t)
	env.containers.mu.Lock()
	env.containers.pruned = nil
	env.containers.mu.Unlock()

	res := env.docker(t, "", "volume", "create", "--label", "team=web", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "web-data")
	if res.code != 0 || res.stdout != "web-data\n" {
		t.Fatalf("volume create: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	if res := env.docker(t, "", "volume", "create"); res.code != 0 || len(strings.TrimSpace(res.stdout)) != 64 {
		t.Errorf("anonymous volume create: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	anon := strings.Repeat("1", 64)
	env.docker(t, "", "volume", "create", "db")
	env.volumes.users = map[string][]string{"db": {"c0ffee"}}

	res = env.docker(t, "", "volume", "ls")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if res.code != 0 || len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "DRIVER VOLUME NAME" ||
		strings.Join(strings.Fields(lines[3]), " ") != "local web-data" {
		t.Errorf("volume ls: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--filter", "label=team=web"}, "web-data"},
		{[]string{"--filter", "name=d"}, "db\nweb-data"},
		{[]string{"--filter", "dangling=false"}, "db"},
		{[]string{"--filter", "dangling=true", "--filter", "name=web"}, "web-data"},
	} {
		res := env.docker(t, "", append([]string{"volume", "ls", "-q"}, tc.args...)...)
		if res.code != 0 || strings.TrimSpace(res.stdout) != tc.want {
			t.Errorf("volume ls -q %v: rc %d %q %q, want %q", tc.args, res.code, res.stdout, res.stderr, tc.want)
		}
	}
	if res := env.docker(t, "", "volume", "ls", "--filter", "bogus=1"); res.code == 0 || !strings.Contains(res.stderr, "Error response from daemon: invalid filter 'bogus'") {
		t.Errorf("volume ls bad filter: rc %d %q", res.code, res.stderr)
	}

	res = env.docker(t, "", "volume", "inspect", "web-data")
	var got []volume.Volume
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || len(got) != 1 {
		t.Fatalf("volume inspect: %v %q %q", err, res.stdout, res.stderr)
	}
	if v := got[0]; v.Name != "web-data" || v.Driver != "local" || v.Scope != "local" || v.Labels["team"] != "web" ||
		v.Options["type"] != "tmpfs" || v.Mountpoint != "/var/lib/shoal/volumes/web-data/_data" {
		t.Errorf("volume inspect: %+v", v)
	}
	if res := env.docker(t, "", "volume", "inspect", "--format", "{{.Name}} {{.Driver}}", "db"); res.stdout != "db local\n" {
		t.Errorf("volume inspect --format: %q %q", res.stdout, res.stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		// On a swarm manager dockerd asks the swarm for a volume it does not have.
		{[]string{"volume", "inspect", "nope"}, "Error response from daemon: volume nope not found"},
		{[]string{"volume", "rm", "nope"}, "Error response from daemon: volume nope not found"},
		{[]string{"volume", "rm", "db"}, "Error response from daemon: remove db: volume is in use - [c0ffee]"},
		{[]string{"volume", "create", "-d", "flocker", "x1"}, `Error response from daemon: create x1: error looking up volume plugin flocker: plugin "flocker" not found`},
	} {
		res := env.docker(t, "", tc.args...)
		if res.code == 0 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: rc %d stderr %q, want %q", tc.args, res.code, res.stderr, tc.want)
		}
	}
	if res := env.docker(t, "", "volume", "rm", "-f", "nope"); res.code != 0 {
		t.Errorf("volume rm -f of a missing volume: rc %d %q", res.code, res.stderr)
	}

	res = env.docker(t, "", "volume", "prune", "-f")
	if res.code != 0 || !strings.Contains(res.stdout, "Deleted Volumes:\n"+anon+"\n") || !strings.Contains(res.stdout, "Total reclaimed space: 1kB") {
		t.Errorf("volume prune: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	if env.volumes.pruneFilters.Contains("all") {
		t.Errorf("volume prune sent all: %v", env.volumes.pruneFilters)
	}
	res = env.docker(t, "", "volume", "prune", "-a", "-f")
	if res.code != 0 || !strings.Contains(res.stdout, "Deleted Volumes:\nweb-data\n") || strings.Contains(res.stdout, "db") {
		t.Errorf("volume prune -a: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	if res := env.docker(t, "", "volume", "rm", "db"); res.code == 0 {
		t.Error("volume rm of a volume in use succeeded")
	}
	env.volumes.users = nil
	if res := env.docker(t, "", "volume", "rm", "db"); res.code != 0 || res.stdout != "db\n" {
		t.Errorf("volume rm: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
}

// TestVolumeEndpoints: shapes, versions, the swarm's part and the errors, with curl's eyes.
func TestVolumeEndpoints(t *testing.T) {
	env := startEnv(t)
	check := contractCheck(t)
	get := func(method, path, body string) (*http.Response, string) {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		resp, b := env.do(t, method, path, ct, body)
		check(method, path, resp, b)
		return resp, b
	}

	if resp, body := get("GET", "/v1.51/volumes", ""); resp.StatusCode != 200 || body != `{"Volumes":[],"Warnings":[]}`+"\n" {
		t.Errorf("empty list: %d %s", resp.StatusCode, body)
	}
	resp, body := get("POST", "/v1.51/volumes/create", `{"Name":"v1","Labels":{"a":"b"}}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"Name":"v1"`) || !strings.Contains(body, `"Options":{}`) {
		t.Errorf("create: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("GET", "/v1.51/volumes", ""); resp.StatusCode != 200 || !strings.Contains(body, `"Volumes":[{"CreatedAt":"2026-01-02T03:04:05Z","Driver":"local","Labels":{"a":"b"}`) {
		t.Errorf("list: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("GET", "/v1.51/volumes/v1", ""); resp.StatusCode != 200 || strings.Contains(body, "UsageData") {
		t.Errorf("inspect: %d %s", resp.StatusCode, body)
	}
	// Volumes named like the static routes are still volumes.
	get("POST", "/v1.51/volumes/create", `{"Name":"prune"}`)
	get("POST", "/v1.51/volumes/create", `{"Name":"create"}`)
	for _, name := range []string{"prune", "create"} {
		if resp, body := get("GET", "/v1.51/volumes/"+name, ""); resp.StatusCode != 200 || !strings.Contains(body, `"Name":"`+name+`"`) {
			t.Errorf("inspect %s: %d %s", name, resp.StatusCode, body)
		}
	}
	if resp, _ := get("DELETE", "/v1.51/volumes/prune", ""); resp.StatusCode != 204 {
		t.Errorf("delete the volume named prune: %d", resp.StatusCode)
	}

	type errCase struct {
		method, path, body string
		status             int
		msg                string
	}
	managerCases := []errCase{
		{"GET", "/v1.51/volumes/nope", "", 404, "volume nope not found"},
		{"GET", "/v1.41/volumes/nope", "", 404, "get nope: no such volume"}, // before cluster volumes
		{"DELETE", "/v1.51/volumes/nope", "", 404, "volume nope not found"},
		{"DELETE", "/v1.41/volumes/nope", "", 404, "get nope: no such volume"},
		{"PUT", "/v1.51/volumes/v1", "{}", 400, `invalid swarm object version '': strconv.ParseUint: parsing "": invalid syntax`},
		{"PUT", "/v1.51/volumes/v1?version=3", `{"Spec":{"Availability":"drain"}}`, 404, "volume v1 not found"},
		{"POST", "/v1.51/volumes/create", `{"Name":"cv","ClusterVolumeSpec":{}}`, 501, "cluster volumes are not supported by this daemon"},
		{"POST", "/v1.51/volumes/create", `{"Name":"x","Driver":"rexray"}`, 404, `create x: error looking up volume plugin rexray: plugin "rexray" not found`},
		{"POST", "/v1.51/volumes/create", `{"Name":1}`, 400, "invalid JSON: json: cannot unmarshal number into Go struct field CreateOptions.Name of type string"},
		{"GET", "/v1.51/volumes?filters=" + `{"driver":{"local":true},"bogus":{"x":true}}`, "", 400, "invalid filter 'bogus'"},
		{"GET", "/v1.51/volumes?filters=nonsense", "", 400, "error reading volume filters: invalid filter"},
		{"POST", "/v1.51/volumes/prune?filters=" + `{"dangling":{"true":true}}`, "", 400, "invalid filter 'dangling'"},
	}
	for _, tc := range managerCases {
		resp, body := get(tc.method, tc.path, tc.body)
		want := fmt.Sprintf(`{"message":%q}`, tc.msg) + "\n"
		if resp.StatusCode != tc.status || body != want {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, resp.StatusCode, body, tc.status, want)
		}
	}
	if resp, _ := get("DELETE", "/v1.51/volumes/nope?force=1", ""); resp.StatusCode != 204 {
		t.Errorf("forced delete of a missing volume: %d", resp.StatusCode)
	}
	// An old client's cluster volume request is a local volume.
	if resp, body := get("POST", "/v1.41/volumes/create", `{"Name":"old","ClusterVolumeSpec":{}}`); resp.StatusCode != 201 {
		t.Errorf("v1.41 create with ClusterVolumeSpec: %d %s", resp.StatusCode, body)
	}

	// Off a manager: the local texts, and PUT is 503.
	env.cluster.mu.Lock()
	env.cluster.info = swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive}
	env.cluster.mu.Unlock()
	for _, tc := range []errCase{
		{"GET", "/v1.51/volumes/nope", "", 404, "get nope: no such volume"},
		{"DELETE", "/v1.51/volumes/nope", "", 404, "get nope: no such volume"},
		{"PUT", "/v1.51/volumes/v1?version=3", "{}", 503, "volume update only valid for cluster volumes, but swarm is unavailable"},
	} {
		resp, body := get(tc.method, tc.path, tc.body)
		want := fmt.Sprintf(`{"message":%q}`, tc.msg) + "\n"
		if resp.StatusCode != tc.status || body != want {
			t.Errorf("not a manager: %s %s: %d %s, want %d %s", tc.method, tc.path, resp.StatusCode, body, tc.status, want)
		}
	}

	// Prune: an API 1.41 client prunes every unused volume.
	resp, body = get("POST", "/v1.41/volumes/prune", "")
	if resp.StatusCode != 200 || !env.volumes.pruneFilters.ExactMatch("all", "true") {
		t.Errorf("v1.41 prune: %d %s, filters %v", resp.StatusCode, body, env.volumes.pruneFilters)
	}
	var rep volume.PruneReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil || !slices.Contains(rep.VolumesDeleted, "v1") {
		t.Errorf("v1.41 prune report: %s %v", body, err)
	}
	resp, body = get("POST", "/v1.51/volumes/prune", "")
	if resp.StatusCode != 200 || env.volumes.pruneFilters.Contains("all") || body != `{"VolumesDeleted":[],"SpaceReclaimed":0}`+"\n" {
		t.Errorf("v1.51 prune: %d %s, filters %v", resp.StatusCode, body, env.volumes.pruneFilters)
	}
}

// TestVolumeRoutesNeedTheirBackend: without a VolumeBackend the volume routes answer 501.
func TestVolumeRoutesNeedTheirBackend(t *testing.T) {
	_, cfg := newTestEnvConfig()
	cfg.Volumes = nil
	env := &testEnv{sock: serve(t, New(cfg)), cluster: &fakeCluster{}, images: &fakeImages{}, containers: &fakeContainers{},
		events: newFakeEvents(), volumes: &fakeVolumes{}}
	resp, body := env.do(t, "GET", "/v1.51/volumes", "", "")
	if resp.StatusCode != 501 || body != `{"message":"volume API is not available on this daemon"}`+"\n" {
		t.Errorf("GET /volumes without a backend: %d %s", resp.StatusCode, body)
	}
}
