package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/integration/harness"
)

// largestSnapshot is the size in bytes of the largest Raft snapshot a host keeps on disk.
func largestSnapshot(h *harness.Host) int64 {
	metas, _ := filepath.Glob(filepath.Join(h.Daemon.DataRoot, "swarm", "raft", "snapshots", "*", "meta.json"))
	var largest int64
	for _, m := range metas {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		var meta struct{ Size int64 }
		if json.Unmarshal(b, &meta) == nil && meta.Size > largest {
			largest = meta.Size
		}
	}
	return largest
}

// TestSnapshotToLaggingManager: a manager frozen while the others write tens of megabytes and
// compact their logs catches up from the leader's snapshot, and then holds the whole state: it
// alone can recover the swarm with --force-new-cluster.
func TestSnapshotToLaggingManager(t *testing.T) {
	c, _ := swarmOf(t, 3, 3)
	h1, h2, h3 := c.Hosts[0], c.Hosts[1], c.Hosts[2]

	// Docker's knobs: snapshot every 50 entries, keep 10 behind it for slow followers.
	h1.MustDocker(t, "swarm", "update", "--snapshot-interval", "50")
	cli := h1.Daemon.Client(t)
	ctx := context.Background()
	sw, err := cli.SwarmInspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sw.Spec.Raft.LogEntriesForSlowFollowers = 10
	if err := cli.SwarmUpdate(ctx, sw.Version, sw.Spec, swarm.UpdateFlags{}); err != nil {
		t.Fatal(err)
	}
	if out := h1.MustDocker(t, "info", "--format", "{{.Swarm.Cluster.Spec.Raft.SnapshotInterval}} {{.Swarm.Cluster.Spec.Raft.LogEntriesForSlowFollowers}}"); out != "50 10" {
		t.Fatalf("raft spec in docker info: %q", out)
	}
	for _, h := range []*harness.Host{h1, h2} {
		harness.Eventually(t, 20*time.Second, func() (bool, string) {
			b, _ := os.ReadFile(h.Daemon.LogPath)
			return strings.Contains(string(b), "snapshot-interval=50 log-entries-for-slow-followers=10"), h.Name + " has not applied the raft settings"
		})
	}

	h3.Freeze()
	const secrets, size = 60, 400 << 10
	for i := 0; i < secrets; i++ {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		if _, stderr, code := h1.Daemon.DockerStdin(t, string(data), "secret", "create", fmt.Sprintf("blob%02d", i), "-"); code != 0 {
			t.Fatalf("secret create %d: %s", i, stderr)
		}
	}
	// A snapshot is taken every 50 entries: small writes after the secrets make sure one holds
	// them all (the store keeps secret data in base64: 4/3 of its size), and the leader compacts
	// its log past where host3 stopped.
	const allSecrets = secrets * size * 4 / 3
	for i := 0; i < 60; i++ {
		if _, stderr, code := h1.Daemon.DockerStdin(t, "x", "config", "create", fmt.Sprintf("small%02d", i), "-"); code != 0 {
			t.Fatalf("config create %d: %s", i, stderr)
		}
	}
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		got := largestSnapshot(h1)
		return got >= allSecrets, fmt.Sprintf("largest snapshot on host1: %d bytes, want %d", got, allSecrets)
	})
	h3.Thaw()
	harness.Eventually(t, 60*time.Second, func() (bool, string) {
		b, _ := os.ReadFile(h3.Daemon.LogPath)
		return strings.Contains(string(b), "Installed remote snapshot"), "host3 has not installed a snapshot:\n" + h3.Daemon.LogTail(30)
	})
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		got := largestSnapshot(h3)
		return got >= allSecrets, fmt.Sprintf("largest snapshot on host3: %d bytes, want %d", got, allSecrets)
	})

	// Only host3's state is left: it must hold every secret.
	h1.Kill()
	h2.Kill()
	harness.Eventually(t, 20*time.Second, func() (bool, string) {
		_, _, code := h3.Docker(t, "secret", "ls")
		return code != 0, "host3 still has a leader"
	})
	h3.MustDocker(t, "swarm", "init", "--force-new-cluster", "--advertise-addr", h3.Addr)
	out := h3.MustDocker(t, "secret", "ls", "--format", "{{.Name}}")
	if n := len(strings.Fields(out)); n != secrets {
		t.Fatalf("host3 holds %d secrets after recovering alone, want %d:\n%s", n, secrets, out)
	}
}
