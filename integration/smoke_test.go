package integration

import (
	"context"
	"testing"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestSmokeVersion is the first end-to-end check: shoald starts, answers
// /_ping, and `docker version` shows it serving Engine API 1.51 (down to
// 1.24), through the contract proxy. It needs cmd/shoald.
func TestSmokeVersion(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})

	if got := d.MustDocker(t, "version", "--format", "{{.Server.APIVersion}}"); got != "1.51" {
		t.Errorf("docker version: server API version %q, want 1.51", got)
	}
	if got := d.MustDocker(t, "version", "--format", "{{.Server.MinAPIVersion}} {{.Server.Os}}"); got != "1.24 linux" {
		t.Errorf("docker version: min API version and OS %q, want \"1.24 linux\"", got)
	}

	cli := d.Client(t)
	ping, err := cli.Ping(context.Background())
	if err != nil {
		t.Fatalf("SDK ping: %v", err)
	}
	if ping.APIVersion != "1.51" || ping.OSType != "linux" {
		t.Errorf("ping headers: API-Version %q OSType %q, want 1.51 linux", ping.APIVersion, ping.OSType)
	}
	if v := cli.ClientVersion(); v != "1.51" {
		t.Errorf("SDK negotiated API version %q, want 1.51", v)
	}
}
