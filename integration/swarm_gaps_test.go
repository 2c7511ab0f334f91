package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestSwarmGaps: a service's labels reach its tasks' templates (.Service.Labels, as swarmkit's
// task carries its ServiceAnnotations) without showing on the task or its container; network
// aliases given with --network stay in the service's and the task's spec, and the task's network
// attachments show no aliases (the Engine API type has none); Raft.KeepOldSnapshots, which only
// the API sets, decides how many snapshots a manager keeps on disk.
func TestSwarmGaps(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	busybox := imgs["busybox:1"]

	t.Run("service labels in templates", func(t *testing.T) {
		d.MustDocker(t, "service", "create", "-d", "--name", "lbl", "--label", "a=b", "--label", "tier=front",
			"--hostname", `{{index .Service.Labels "a"}}`, "--env", "L={{.Service.Labels}}", "--env", "T={{.Service.Labels.tier}}",
			busybox, "sleep", "1000")
		c := waitContainers(t, d, "lbl", 1)[0]
		if got := d.MustDocker(t, "exec", c, "hostname"); got != "b" {
			t.Errorf("hostname in the container: %q, want b", got)
		}
		env := d.MustDocker(t, "exec", c, "env")
		for _, want := range []string{"L=map[a:b tier:front]", "T=front"} {
			if !strings.Contains("\n"+env+"\n", "\n"+want+"\n") {
				t.Errorf("env in the container lacks %q:\n%s", want, env)
			}
		}
		// The service's labels are the service's: not the task's, not the container's.
		task := d.MustDocker(t, "service", "ps", "-q", "lbl")
		if got := d.MustDocker(t, "inspect", "--format", "{{json .Labels}}", task); got != "{}" {
			t.Errorf("task labels: %s, want {}", got)
		}
		if got := d.MustDocker(t, "inspect", "--format", "{{json .Config.Labels}}", c); strings.Contains(got, `"a":"b"`) || strings.Contains(got, `"tier"`) {
			t.Errorf("container labels carry the service's: %s", got)
		}
		if got := d.MustDocker(t, "service", "inspect", "--format", "{{json .Spec.Labels}}", "lbl"); got != `{"a":"b","tier":"front"}` {
			t.Errorf("service labels: %s", got)
		}
	})

	t.Run("network aliases", func(t *testing.T) {
		netID := d.MustDocker(t, "network", "create", "-d", "overlay", "gapnet")
		d.MustDocker(t, "service", "create", "-d", "--name", "ali", "--network", "name=gapnet,alias=a1,alias=a2",
			busybox, "sleep", "1000")
		want := `[{"Target":"` + netID + `","Aliases":["a1","a2"]}]`
		if got := d.MustDocker(t, "service", "inspect", "--format", "{{json .Spec.TaskTemplate.Networks}}", "ali"); got != want {
			t.Errorf("service spec networks: %s, want %s", got, want)
		}
		waitContainers(t, d, "ali", 1)
		task := d.MustDocker(t, "service", "ps", "-q", "ali")
		if got := d.MustDocker(t, "inspect", "--format", "{{json .Spec.Networks}}", task); got != want {
			t.Errorf("task spec networks: %s, want %s", got, want)
		}
		atts := d.MustDocker(t, "inspect", "--format", "{{json .NetworksAttachments}}", task)
		if !strings.Contains(atts, `"ID":"`+netID+`"`) || !strings.Contains(atts, `"Addresses":["`) || strings.Contains(atts, "Aliases") {
			t.Errorf("task network attachments: %s", atts)
		}
	})

	t.Run("keep old snapshots", func(t *testing.T) {
		ctx := context.Background()
		cli := d.Client(t)
		sw, err := cli.SwarmInspect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keep := uint64(2)
		sw.Spec.Raft.KeepOldSnapshots = &keep
		sw.Spec.Raft.SnapshotInterval = 5
		if err := cli.SwarmUpdate(ctx, sw.Version, sw.Spec, swarm.UpdateFlags{}); err != nil {
			t.Fatal(err)
		}
		if got := d.MustDocker(t, "info", "--format", "{{.Swarm.Cluster.Spec.Raft.KeepOldSnapshots}}"); got != "2" {
			t.Errorf("info KeepOldSnapshots: %s, want 2", got)
		}
		dir := filepath.Join(d.DataRoot, "swarm", "raft", "snapshots")
		n := 0
		// Writes past the snapshot interval make a snapshot every few seconds; the newest and two
		// older are kept, never more (shoal kept two before it applied the setting).
		harness.Eventually(t, 90*time.Second, func() (bool, string) {
			for range 6 {
				n++
				if _, err := cli.ConfigCreate(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: fmt.Sprintf("snap%03d", n)}, Data: []byte("x")}); err != nil {
					return false, err.Error()
				}
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				return false, err.Error()
			}
			if len(ents) > 3 {
				t.Fatalf("%d snapshots kept with KeepOldSnapshots 2", len(ents))
			}
			return len(ents) == 3, fmt.Sprintf("%d snapshots in %s", len(ents), dir)
		})
	})
}
