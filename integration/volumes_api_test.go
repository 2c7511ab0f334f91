package integration

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/volume"

	"github.com/shoal-project/shoal/integration/harness"
)

// The tests of this file drive the volume commands, the prunes and `docker system df` of the
// stock CLI on a swarm node whose tasks mount volumes.

// inspectVolume runs docker volume inspect on one volume.
func inspectVolume(t *testing.T, d *harness.Daemon, name string) volume.Volume {
	t.Helper()
	var vs []volume.Volume
	if err := json.Unmarshal([]byte(d.MustDocker(t, "volume", "inspect", name)), &vs); err != nil || len(vs) != 1 {
		t.Fatalf("volume inspect %s: %v %+v", name, err, vs)
	}
	return vs[0]
}

// volumeList runs docker volume ls -q with the arguments and returns the names.
func volumeList(t *testing.T, d *harness.Daemon, args ...string) []string {
	t.Helper()
	return strings.Fields(d.MustDocker(t, append([]string{"volume", "ls", "-q"}, args...)...))
}

// TestVolumeCommands: a service's named and anonymous volumes show in docker volume ls and
// inspect with Docker's fields, cannot be removed while the task's container lives and can once
// the service is gone; volumes made by docker volume create keep their labels and options, the
// ls filters select them, and docker volume prune removes what dockerd would.
func TestVolumeCommands(t *testing.T) {
	d, imgs := runtimeSwarm(t)

	d.MustDocker(t, "service", "create", "-d", "--name", "vs",
		"--mount", "type=volume,source=appdata,target=/data,volume-label=tier=db",
		"--mount", "type=volume,target=/scratch",
		imgs["busybox:1"], "sh", "-c", "echo hello > /data/f; exec sleep 1000")
	ctr := waitContainers(t, d, "vs", 1)[0]

	names := volumeList(t, d)
	if len(names) != 2 || !slices.Contains(names, "appdata") {
		t.Fatalf("volume ls: %v", names)
	}
	anon := names[0]
	if anon == "appdata" {
		anon = names[1]
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon) {
		t.Errorf("anonymous volume name %q", anon)
	}
	if ls := d.MustDocker(t, "volume", "ls", "--format", "{{.Driver}}|{{.Name}}|{{.Scope}}", "--filter", "name=appdata"); ls != "local|appdata|local" {
		t.Errorf("volume ls --format: %q", ls)
	}
	if got := volumeList(t, d, "--filter", "label=com.docker.volume.anonymous"); !slices.Equal(got, []string{anon}) {
		t.Errorf("anonymous volumes: %v, want [%s]", got, anon)
	}

	v := inspectVolume(t, d, "appdata")
	created, err := time.Parse(time.RFC3339, v.CreatedAt)
	if v.Name != "appdata" || v.Driver != "local" || v.Scope != "local" ||
		v.Mountpoint != filepath.Join(d.DataRoot, "volumes", "appdata", "_data") || v.Labels["tier"] != "db" ||
		v.Options == nil || len(v.Options) != 0 || v.UsageData != nil || err != nil || time.Since(created) > 10*time.Minute {
		t.Errorf("volume inspect appdata: %+v (CreatedAt: %v)", v, err)
	}

	// In use by the task's container: refused with dockerd's text, also by prune.
	_, stderr, code := d.Docker(t, "volume", "rm", "appdata")
	if want := "Error response from daemon: remove appdata: volume is in use - [" + ctr + "]"; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("volume rm while in use: exit %d %q, want %q", code, stderr, want)
	}
	if got := volumeList(t, d, "--filter", "dangling=true"); len(got) != 0 {
		t.Errorf("dangling volumes while the task runs: %v", got)
	}
	out := d.MustDocker(t, "volume", "prune", "-a", "-f")
	if out != "Total reclaimed space: 0B" {
		t.Errorf("volume prune -a while everything is in use: %q", out)
	}

	removeService(t, d, "vs")
	if got := volumeList(t, d); !slices.Equal(got, []string{"appdata"}) {
		t.Errorf("volumes after service rm: %v (the anonymous one goes with its container)", got)
	}
	if got := volumeList(t, d, "--filter", "dangling=true"); !slices.Equal(got, []string{"appdata"}) {
		t.Errorf("dangling volumes after service rm: %v", got)
	}
	if out := d.MustDocker(t, "volume", "rm", "appdata"); out != "appdata" {
		t.Errorf("volume rm: %q", out)
	}

	// docker volume create.
	if out := d.MustDocker(t, "volume", "create", "--label", "team=web", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=1m", "tv"); out != "tv" {
		t.Errorf("volume create tv: %q", out)
	}
	d.MustDocker(t, "volume", "create", "--label", "team=db", "plain")
	anon = d.MustDocker(t, "volume", "create")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon) {
		t.Errorf("volume create without a name: %q", anon)
	}
	if got := d.MustDocker(t, "volume", "inspect", "--format", "{{json .Options}} {{json .Labels}}", "tv"); got != `{"device":"tmpfs","o":"size=1m","type":"tmpfs"} {"team":"web"}` {
		t.Errorf("inspect tv: %s", got)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--filter", "label=team=web"}, []string{"tv"}},
		{[]string{"--filter", "label=team"}, []string{"plain", "tv"}},
		{[]string{"--filter", "name=pla"}, []string{"plain"}},
		{[]string{"--filter", "driver=local", "--filter", "label=com.docker.volume.anonymous"}, []string{anon}},
		{[]string{"--filter", "dangling=false"}, nil},
	} {
		got := volumeList(t, d, tc.args...)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("volume ls %v: %v, want %v", tc.args, got, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"volume", "inspect", "nope"}, "Error response from daemon: volume nope not found"}, // a manager asks the swarm
		{[]string{"volume", "create", "-d", "flocker", "fv"}, `Error response from daemon: create fv: error looking up volume plugin flocker: plugin "flocker" not found`},
		{[]string{"volume", "create", "--opt", "bogus=1", "bv"}, `Error response from daemon: create bv: invalid option: "bogus"`},
		{[]string{"volume", "ls", "--filter", "bogus=1"}, "Error response from daemon: invalid filter 'bogus'"},
	} {
		_, stderr, code := d.Docker(t, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
	// tv mounts a tmpfs while used: a task sees it, and its content is not on the host.
	d.MustDocker(t, "service", "create", "-d", "--name", "tvs", "--mount", "type=volume,source=tv,target=/t",
		imgs["busybox:1"], "sleep", "1000")
	ctr = waitContainers(t, d, "tvs", 1)[0]
	if df := d.MustDocker(t, "exec", ctr, "sh", "-c", "df -k /t | tail -n 1"); !strings.HasPrefix(df, "tmpfs") {
		t.Errorf("df /t in the task: %q", df)
	}
	removeService(t, d, "tvs")

	// prune: the anonymous volume only; with -a every unused one without options.
	out = d.MustDocker(t, "volume", "prune", "-f")
	if out != "Deleted Volumes:\n"+anon+"\n\nTotal reclaimed space: 0B" {
		t.Errorf("volume prune: %q", out)
	}
	out = d.MustDocker(t, "volume", "prune", "-a", "-f")
	if out != "Deleted Volumes:\nplain\n\nTotal reclaimed space: 0B" {
		t.Errorf("volume prune -a: %q", out)
	}
	if got := volumeList(t, d); !slices.Equal(got, []string{"tv"}) {
		t.Errorf("volumes left: %v (a volume with options is never pruned)", got)
	}
	d.MustDocker(t, "volume", "rm", "tv")
	if got := volumeList(t, d); len(got) != 0 {
		t.Errorf("volumes left after rm: %v", got)
	}
}

// TestPruneAndDiskUsage: container prune removes a finished job's container (its task stays
// complete), image prune and system prune succeed, and docker system df renders the node's
// images, containers and volumes.
func TestPruneAndDiskUsage(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	busybox := imgs["busybox:1"]

	out, stderr, code := d.Docker(t, "service", "create", "--name", "job", "--mode", "replicated-job",
		busybox, "sh", "-c", "head -c 5000 /dev/zero > /written")
	if code != 0 || !strings.Contains(out, "job complete") {
		t.Fatalf("job: exit %d\n%s\n%s", code, out, stderr)
	}
	done := serviceContainers(t, d, "job", true)
	if len(done) != 1 {
		t.Fatalf("job containers: %v", done)
	}
	d.MustDocker(t, "service", "create", "-d", "--name", "web", "--mount", "type=volume,source=webdata,target=/data",
		busybox, "sh", "-c", "head -c 3000 /dev/zero > /data/f; exec sleep 1000")
	web := waitContainers(t, d, "web", 1)[0]

	out = d.MustDocker(t, "container", "prune", "-f")
	if !regexp.MustCompile(`^Deleted Containers:\n` + done[0] + `\n\nTotal reclaimed space: 5(\.\d+)?kB$`).MatchString(out) {
		t.Errorf("container prune: %q", out)
	}
	if ids := strings.Fields(d.MustDocker(t, "ps", "-aq", "--no-trunc")); !slices.Equal(ids, []string{web}) {
		t.Errorf("containers after prune: %v, want the running one %s", ids, web)
	}
	// The task of the pruned container stays complete, and the agent goes on running the node.
	if ps := d.MustDocker(t, "service", "ps", "job", "--format", "{{.DesiredState}} {{.CurrentState}}"); !strings.HasPrefix(ps, "Complete Complete") {
		t.Errorf("job task after prune: %q", ps)
	}
	if out := d.MustDocker(t, "container", "prune", "-f"); out != "Total reclaimed space: 0B" {
		t.Errorf("second container prune: %q", out)
	}

	if out := d.MustDocker(t, "image", "prune", "-f"); out != "Total reclaimed space: 0B" {
		t.Errorf("image prune: %q", out)
	}
	// -a: busybox runs in web's container and stays.
	if out := d.MustDocker(t, "image", "prune", "-a", "-f"); out != "Total reclaimed space: 0B" {
		t.Errorf("image prune -a: %q", out)
	}
	if out := d.MustDocker(t, "system", "prune", "-f"); !strings.HasSuffix(out, "Total reclaimed space: 0B") {
		t.Errorf("system prune -f: %q", out)
	}

	df := d.MustDocker(t, "system", "df")
	rows := map[string]string{}
	for _, l := range strings.Split(df, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) > 0 && (f[0] == "Images" || f[0] == "Containers"):
			rows[f[0]] = strings.Join(f[1:], " ")
		case len(f) > 1 && f[0]+" "+f[1] == "Local Volumes", len(f) > 1 && f[0]+" "+f[1] == "Build Cache":
			rows[f[0]+" "+f[1]] = strings.Join(f[2:], " ")
		}
	}
	if !strings.HasPrefix(rows["Images"], "1 1 ") || !strings.HasPrefix(rows["Containers"], "1 1 ") ||
		!regexp.MustCompile(`^1 1 3(\.\d+)?kB 0B \(0%\)$`).MatchString(rows["Local Volumes"]) || rows["Build Cache"] != "0 0 0B 0B" {
		t.Errorf("system df:\n%s\nrows %q", df, rows)
	}
	dfv := d.MustDocker(t, "system", "df", "-v")
	flat := strings.Join(strings.Fields(dfv), " ")
	for _, want := range []string{"Images space usage:", "Containers space usage:", "Local Volumes space usage:",
		"webdata 1 3", "Build cache usage: 0B", "web.1."} {
		if !strings.Contains(flat, want) {
			t.Errorf("system df -v lacks %q:\n%s", want, dfv)
		}
	}

	// Everything goes once the services do.
	removeService(t, d, "web")
	d.MustDocker(t, "service", "rm", "job")
	out = d.MustDocker(t, "system", "prune", "-a", "-f", "--volumes")
	if !strings.HasPrefix(out, "Deleted Images:\n") || !strings.Contains(out, "\ndeleted: sha256:") || strings.HasSuffix(out, "Total reclaimed space: 0B") {
		t.Errorf("system prune -a --volumes did not delete the image: %q", out)
	}
	if imgsLeft := d.MustDocker(t, "images", "-q"); imgsLeft != "" {
		t.Errorf("images after system prune -a: %q", imgsLeft)
	}
	// --volumes prunes anonymous volumes only (API >= 1.42): webdata stays.
	if got := volumeList(t, d); !slices.Equal(got, []string{"webdata"}) {
		t.Errorf("volumes after system prune --volumes: %v", got)
	}
}
