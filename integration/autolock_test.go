package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestAutolock: with autolock a restarted manager is locked until `docker swarm unlock` gets the
// key; a wrong key is refused; the key can be rotated and autolock turned off.
func TestAutolock(t *testing.T) {
	d := harness.StartDaemon(t, harness.Options{})
	out := d.MustDocker(t, "swarm", "init", "--autolock", "--advertise-addr", "127.0.0.1", "--listen-addr", harness.FreeLoopbackAddr(t))
	if !strings.Contains(out, "docker swarm unlock") || !strings.Contains(out, "SWMKEY-1-") {
		t.Fatalf("init --autolock printed:\n%s", out)
	}
	key := d.MustDocker(t, "swarm", "unlock-key", "-q")
	if !strings.HasPrefix(key, "SWMKEY-1-") {
		t.Fatalf("unlock key %q", key)
	}
	_, stderr, code := d.Docker(t, "swarm", "unlock")
	wantFail(t, "unlock of an unlocked swarm", stderr, code, "swarm is not locked")
	d.MustDocker(t, "network", "create", "-d", "overlay", "kept")
	time.Sleep(1500 * time.Millisecond) // the node key is locked on disk within a second

	d.Kill()
	d.Start()
	if st := d.MustDocker(t, "info", "--format", "{{.Swarm.LocalNodeState}}"); st != "locked" {
		t.Fatalf("after restart: %q, want locked", st)
	}
	_, stderr, code = d.Docker(t, "service", "ls")
	wantFail(t, "service ls while locked", stderr, code, `Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.`)
	_, stderr, code = d.DockerStdin(t, "SWMKEY-1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "swarm", "unlock")
	wantFail(t, "unlock with a wrong key", stderr, code, "swarm could not be unlocked: invalid key provided")
	if _, stderr, code := d.DockerStdin(t, key+"\n", "swarm", "unlock"); code != 0 {
		t.Fatalf("unlock with the key: %s", stderr)
	}
	if st := d.MustDocker(t, "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"); st != "active true" {
		t.Fatalf("after unlock: %q", st)
	}
	if got := d.MustDocker(t, "network", "inspect", "kept", "--format", "{{.Name}}"); got != "kept" {
		t.Errorf("state after unlock: %q", got)
	}

	// rotation gives a new key; turning autolock off keeps the node unlocked across a restart
	d.MustDocker(t, "swarm", "unlock-key", "--rotate")
	if again := d.MustDocker(t, "swarm", "unlock-key", "-q"); again == key || !strings.HasPrefix(again, "SWMKEY-1-") {
		t.Errorf("rotated key %q (was %q)", again, key)
	}
	d.MustDocker(t, "swarm", "update", "--autolock=false")
	time.Sleep(1500 * time.Millisecond)
	d.Kill()
	d.Start()
	if st := d.MustDocker(t, "info", "--format", "{{.Swarm.LocalNodeState}}"); st != "active" {
		t.Fatalf("after restart without autolock: %q", st)
	}
	d.MustDocker(t, "swarm", "leave", "--force")
}
