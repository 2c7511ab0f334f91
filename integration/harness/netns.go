package harness

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// NewNetNS creates a network namespace named shoal-<random> with its
// loopback up (`ip netns add`), deletes it at cleanup, and returns its name
// for Options.NetNS. Traffic between namespaces is the test's to wire (veth
// pairs with 198.18.0.0/15 addresses).
func NewNetNS(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "shoal-" + hex.EncodeToString(b)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("harness: ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("harness: ip netns del %s: %v: %s", name, err, out)
		}
	})
	run("-n", name, "link", "set", "lo", "up")
	return name
}
