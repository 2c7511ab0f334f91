package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestImagesMoreTagHistorySave: `docker tag` adds a name (and the tag time), `docker history`
// lists the config's history newest first, `docker save` then `docker rmi` and `docker load` give
// back the same image ID, with LastTagTime zero after the load as dockerd.
func TestImagesMoreTagHistorySave(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})
	archive := harness.WriteImageArchive(t, "busybox:1")
	d.MustDocker(t, "load", "-i", archive)
	id := strings.TrimSpace(d.MustDocker(t, "image", "inspect", "--format", "{{.Id}}", "busybox:1"))
	if got := strings.TrimSpace(d.MustDocker(t, "image", "inspect", "--format", "{{.Metadata.LastTagTime}}", "busybox:1")); got != "0001-01-01 00:00:00 +0000 UTC" {
		t.Errorf("LastTagTime after load: %q", got)
	}

	// tag
	d.MustDocker(t, "tag", "busybox:1", "example.com/team/bb:7")
	out := d.MustDocker(t, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	for _, want := range []string{"busybox:1 " + id[7:19], "example.com/team/bb:7 " + id[7:19]} {
		if !strings.Contains(out, want) {
			t.Errorf("docker images lacks %q:\n%s", want, out)
		}
	}
	if got := strings.TrimSpace(d.MustDocker(t, "image", "inspect", "--format", "{{.Metadata.LastTagTime}}", id)); strings.HasPrefix(got, "0001-") {
		t.Errorf("LastTagTime after tag: %q", got)
	}
	_, stderr, code := d.Docker(t, "tag", "nope:1", "x:1")
	wantFail(t, "tag of a missing image", stderr, code, "Error response from daemon: No such image: nope:1")
	_, stderr, code = d.Docker(t, "tag", "busybox:1", "Bad/Name")
	wantFail(t, "tag to a bad name", stderr, code, "invalid reference format")
	out = d.MustDocker(t, "rmi", "example.com/team/bb:7")
	if !strings.Contains(out, "Untagged: example.com/team/bb:7") || strings.Contains(out, "Deleted") {
		t.Errorf("rmi of one name: %q", out)
	}
	d.MustDocker(t, "image", "inspect", "busybox:1")

	// history
	out = d.MustDocker(t, "history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}", "busybox:1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], id+"|") {
		t.Errorf("history top entry must carry the image ID:\n%s", out)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "<missing>|") {
			t.Errorf("lower history entry %q, want <missing>", l)
		}
	}
	resp := d.MustDocker(t, "history", "--format", "json", "busybox:1")
	if !strings.Contains(resp, `"CreatedBy"`) {
		t.Errorf("history json: %s", resp)
	}
	_, stderr, code = d.Docker(t, "history", "nope:1")
	wantFail(t, "history of a missing image", stderr, code, "No such image: nope:1")

	// save, rmi, load: same ID
	tarPath := filepath.Join(t.TempDir(), "bb.tar")
	d.MustDocker(t, "save", "-o", tarPath, "busybox:1")
	if fi, err := os.Stat(tarPath); err != nil || fi.Size() < 1024 {
		t.Fatalf("saved archive: %v %v", fi, err)
	}
	d.MustDocker(t, "rmi", "busybox:1")
	if _, _, code := d.Docker(t, "image", "inspect", id); code == 0 {
		t.Fatal("image still there after rmi")
	}
	out = d.MustDocker(t, "load", "-i", tarPath)
	if !strings.Contains(out, "Loaded image: busybox:1") {
		t.Errorf("load: %q", out)
	}
	if got := strings.TrimSpace(d.MustDocker(t, "image", "inspect", "--format", "{{.Id}}", "busybox:1")); got != id {
		t.Errorf("after round trip the ID is %s, want %s", got, id)
	}
	_, stderr, code = d.Docker(t, "save", "-o", filepath.Join(t.TempDir(), "x.tar"), "nope:1")
	wantFail(t, "save of a missing image", stderr, code, "reference does not exist")
}

// TestImagesMorePushPull: `docker push` to a loopback registry streams dockerd's progress and
// digest line, a second push finds the layers there, `docker pull -a` pulls every tag, and a pull
// from a closed port shows the one plain-HTTP attempt, as dockerd.
func TestImagesMorePushPull(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})
	reg := harness.StartRegistry(t)
	d.MustDocker(t, "load", "-i", harness.WriteImageArchive(t, "busybox:1", "whoami:1"))
	id := strings.TrimSpace(d.MustDocker(t, "image", "inspect", "--format", "{{.Id}}", "busybox:1"))
	d.MustDocker(t, "tag", "busybox:1", reg.Ref("team/bb:1"))
	d.MustDocker(t, "tag", "whoami:1", reg.Ref("team/bb:2"))

	out := d.MustDocker(t, "push", reg.Ref("team/bb:1"))
	for _, want := range []string{"The push refers to repository [" + reg.Ref("team/bb") + "]", ": Pushed", "1: digest: sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("push output lacks %q:\n%s", want, out)
		}
	}
	out = d.MustDocker(t, "push", "--all-tags", reg.Ref("team/bb"))
	for _, want := range []string{": Layer already exists", "1: digest: sha256:", "2: digest: sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("push -a output lacks %q:\n%s", want, out)
		}
	}
	digests := d.MustDocker(t, "image", "inspect", "--format", "{{json .RepoDigests}}", "busybox:1")
	var rd []string
	if err := json.Unmarshal([]byte(digests), &rd); err != nil || len(rd) != 1 || !strings.HasPrefix(rd[0], reg.Ref("team/bb@sha256:")) {
		t.Errorf("RepoDigests after push: %s", digests)
	}
	_, stderr, code := d.Docker(t, "push", reg.Ref("nothere:1"))
	wantFail(t, "push of a missing image", stderr, code, "An image does not exist locally with the tag: "+reg.Ref("nothere"))

	// pull -a into a clean store
	d.MustDocker(t, "rmi", "-f", "busybox:1", "whoami:1", reg.Ref("team/bb:1"), reg.Ref("team/bb:2"))
	out = d.MustDocker(t, "pull", "-a", reg.Ref("team/bb"))
	if !strings.Contains(out, "Status: Downloaded newer image for "+reg.Ref("team/bb")) {
		t.Errorf("pull -a: %s", out)
	}
	tags := d.MustDocker(t, "images", "--format", "{{.Tag}}", reg.Ref("team/bb"))
	if got := strings.Join(strings.Fields(tags), ","); got != "1,2" && got != "2,1" {
		t.Errorf("tags after pull -a: %q", got)
	}
	if got := strings.TrimSpace(d.MustDocker(t, "image", "inspect", "--format", "{{.Id}}", reg.Ref("team/bb:1"))); got != id {
		t.Errorf("pushed and pulled back image has ID %s, want %s", got, id)
	}

	closed := harness.FreeLoopbackAddr(t)
	_, stderr, code = d.Docker(t, "pull", closed+"/x:1")
	wantFail(t, "pull from a closed port", stderr, code, `Get "http://`+closed+`/v2/": dial tcp `+closed+`: connect: connection refused`)
	if strings.Contains(stderr, "https://") {
		t.Errorf("pull from a closed port shows the https attempt too: %q", stderr)
	}
}
