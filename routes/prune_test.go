package routes

import (
	"net/http"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
)

// TestCLIPrune drives container, image, builder and system prune through the stock CLI.
func TestCLIPrune(t *testing.T) {
	env := startEnv(t)
	id := strings.Repeat("ab", 32)
	env.containers.pruned = []string{id}

	res := env.docker(t, "", "container", "prune", "-f", "--filter", "label=job=1")
	if res.code != 0 || res.stdout != "Deleted Containers:\n"+id+"\n\nTotal reclaimed space: 1.536kB\n" {
		t.Errorf("container prune: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	if !env.containers.pruneFilters.ExactMatch("label", "job=1") {
		t.Errorf("container prune filters: %v", env.containers.pruneFilters)
	}

	res = env.docker(t, "", "image", "prune", "-f")
	if res.code != 0 || res.stdout != "Total reclaimed space: 0B\n" || !env.images.pruneFilters.ExactMatch("dangling", "true") {
		t.Errorf("image prune: rc %d %q %q, filters %v", res.code, res.stdout, res.stderr, env.images.pruneFilters)
	}
	res = env.docker(t, "", "image", "prune", "-a", "-f")
	want := "Deleted Images:\nuntagged: old:1\ndeleted: sha256:" + strings.Repeat("e", 64) + "\n\nTotal reclaimed space: 2.048kB\n"
	if res.code != 0 || res.stdout != want || !env.images.pruneFilters.ExactMatch("dangling", "false") {
		t.Errorf("image prune -a: rc %d %q %q, filters %v", res.code, res.stdout, res.stderr, env.images.pruneFilters)
	}

	res = env.docker(t, "", "builder", "prune", "-f")
	if res.code != 0 || res.stdout != "Total reclaimed space: 0B\n" {
		t.Errorf("builder prune: rc %d %q %q", res.code, res.stdout, res.stderr)
	}

	res = env.docker(t, "", "system", "prune", "-f")
	if res.code != 0 || !strings.Contains(res.stdout, "Deleted Containers:\n"+id+"\n") || !strings.HasSuffix(res.stdout, "Total reclaimed space: 1.536kB\n") {
		t.Errorf("system prune: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = env.docker(t, "", "system", "prune", "-f", "-a", "--volumes")
	if res.code != 0 || !strings.Contains(res.stdout, "untagged: old:1") || !strings.HasSuffix(res.stdout, "Total reclaimed space: 3.584kB\n") {
		t.Errorf("system prune -a --volumes: rc %d %q %q", res.code, res.stdout, res.stderr)
	}
}

func TestPruneEndpoints(t *testing.T) {
	env := startEnv(t)
	check := contractCheck(t)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/v1.51/containers/prune", 200, `{"ContainersDeleted":null,"SpaceReclaimed":0}`},
		{"/v1.51/containers/prune?filters=" + `{"status":{"exited":true}}`, 400, `{"message":"invalid filter 'status'"}`},
		{"/v1.51/images/prune", 200, `{"ImagesDeleted":null,"SpaceReclaimed":0}`},
		{"/v1.51/images/prune?filters=" + `{"reference":{"x":true}}`, 400, `{"message":"invalid filter 'reference'"}`},
		{"/v1.51/build/prune", 200, `{"CachesDeleted":null,"SpaceReclaimed":0}`},
		{"/v1.51/build/prune?all=1&keep-storage=0&filters=" + `{"until":{"24h":true}}`, 200, `{"CachesDeleted":null,"SpaceReclaimed":0}`},
		{"/v1.51/build/prune?filters=" + `{"dangling":{"true":true}}`, 400, `{"message":"failed to prune build cache: invalid filter 'dangling'"}`},
		{"/v1.51/build/prune?filters=" + `{"until":{"24h":true},"unused-for":{"1h":true}}`, 400, `{"message":"failed to prune build cache: conflicting filters: \"until\" and \"unused-for\""}`},
		{"/v1.51/build/prune?filters=" + `{"until":{"soon":true}}`, 400, ""},
		{"/v1.51/build/prune?filters=" + `{"type":{"regular":true,"source.local":true}}`, 400, `{"message":"failed to prune build cache: filters expect only one value"}`},
		{"/v1.51/build/prune?reserved-space=lots", 400, `{"message":"reserved-space is in bytes and expects an integer, got lots: strconv.Atoi: parsing \"lots\": invalid syntax"}`},
		{"/v1.47/build/prune?reserved-space=lots", 200, `{"CachesDeleted":null,"SpaceReclaimed":0}`}, // not read before 1.48
	} {
		resp, body := env.do(t, "POST", tc.path, "", "")
		check("POST", tc.path, resp, body)
		if resp.StatusCode != tc.status || (tc.body != "" && body != tc.body+"\n") {
			t.Errorf("POST %s: %d %s, want %d %s", tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	// Containers and images named after the prune routes are still found by name.
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/v1.51/containers/prune/json", "No such container: prune"},
		{"DELETE", "/v1.51/containers/prune", ""},
		{"GET", "/v1.51/images/prune/json", ""},
	} {
		resp, body := env.do(t, tc.method, tc.path, "", "")
		if resp.StatusCode == http.StatusNotFound && strings.Contains(body, "page not found") ||
			resp.StatusCode == http.StatusMethodNotAllowed || (tc.want != "" && !strings.Contains(body, tc.want)) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	resp, body := env.do(t, "DELETE", "/v1.51/images/prune", "", "")
	if resp.StatusCode != 200 || body != `[{"Untagged":"prune"}]`+"\n" {
		t.Errorf("DELETE /images/prune (an image named prune): %d %s", resp.StatusCode, body)
	}
}

// TestCLISystemDF: docker system df and its verbose form render what /system/df answers.
func TestCLISystemDF(t *testing.T) {
	env := startEnv(t)
	env.containers.list = []container.Summary{{ID: strings.Repeat("c", 64), Names: []string{"/web.1.x"}, Image: "busybox:1",
		Command: "sleep 1000", Created: 1700000000, State: container.StateRunning, Status: "Up 2 minutes", SizeRw: 2000, SizeRootFs: 6000,
		Labels: map[string]string{}, Ports: []container.Port{},
		Mounts: []container.MountPoint{{Type: "volume", Name: "data", Driver: "local", Destination: "/data"}}}}
	env.volumes.vols = nil
	env.docker(t, "", "volume", "create", "data")
	env.volumes.users = map[string][]string{"data": {strings.Repeat("c", 64)}}

	res := env.docker(t, "", "system", "df")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	fields := func(i int) string {
		if i >= len(lines) {
			return ""
		}
		return strings.Join(strings.Fields(lines[i]), " ")
	}
	if res.code != 0 || len(lines) != 5 || fields(0) != "TYPE TOTAL ACTIVE SIZE RECLAIMABLE" ||
		fields(1) != "Images 1 0 4.096kB 4.096kB (100%)" || fields(2) != "Containers 1 1 2kB 0B (0%)" ||
		fields(3) != "Local Volumes 1 1 12.35kB 0B (0%)" || fields(4) != "Build Cache 0 0 0B 0B" {
		t.Errorf("system df: rc %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if !env.containers.listOpts.All || !env.containers.listOpts.Size {
		t.Errorf("containers listed with %+v", env.containers.listOpts)
	}

	res = env.docker(t, "", "system", "df", "-v")
	for _, want := range []string{"Images space usage:", "Containers space usage:", "Local Volumes space usage:", "Build cache usage: 0B",
		"web.1.x", "data 1 12.35kB"} {
		if !strings.Contains(strings.Join(strings.Fields(res.stdout), " "), want) {
			t.Errorf("system df -v lacks %q: rc %d\n%s\n%s", want, res.code, res.stdout, res.stderr)
		}
	}
	res = env.docker(t, "", "system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Size}}")
	if res.code != 0 || !strings.Contains(res.stdout, "Local Volumes|1|12.35kB") {
		t.Errorf("system df --format: %q %q", res.stdout, res.stderr)
	}
}

func TestDiskUsageEndpoint(t *testing.T) {
	env := startEnv(t)
	check := contractCheck(t)
	env.docker(t, "", "volume", "create", "v")
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/v1.51/system/df", 200, []string{`"LayersSize":4096`, `"Images":[{`, `"Labels":{}`, `"Containers":[]`, `"BuildCache":[]`, `"UsageData":{"RefCount":0,"Size":12345}`}},
		{"/v1.51/system/df?type=volume", 200, []string{`{"LayersSize":0,"Images":null,"Containers":null,"Volumes":[{`, `"BuildCache":null}`}},
		{"/v1.51/system/df?type=build-cache&type=image", 200, []string{`"Volumes":null,"BuildCache":[]}`, `"LayersSize":4096`}},
		{"/v1.41/system/df?type=volume", 200, []string{`"Containers":[]`, `"BuildCache":[]`}}, // type is new in 1.42
		{"/v1.51/system/df?type=bogus", 400, []string{`{"message":"unknown object type: bogus"}`}},
	} {
		resp, body := env.do(t, "GET", tc.path, "", "")
		check("GET", tc.path, resp, body)
		for _, w := range tc.want {
			if resp.StatusCode != tc.status || !strings.Contains(body, w) {
				t.Errorf("GET %s: %d %s\nwant %d and %s", tc.path, resp.StatusCode, body, tc.status, w)
			}
		}
	}
	if resp, body := env.do(t, "GET", "/v1.51/system/df", "", ""); strings.Contains(body, "VirtualSize") {
		t.Errorf("VirtualSize sent to API 1.51: %d %s", resp.StatusCode, body)
	}
}
