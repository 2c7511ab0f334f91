package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/integration/harness"
)

// TestServiceOnHostNetwork: `--network host` runs the task in its node's network namespace, as
// Docker does: a server in it answers on the node's own loopback, under the node's hostname.
func TestServiceOnHostNetwork(t *testing.T) {
	d, imgs := runtimeSwarm(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	d.MustDocker(t, "service", "create", "-d", "--name", "onhost", "--network", "host",
		"--env", fmt.Sprintf("PORT=%d", port), imgs["whoami:1"])
	ids := waitContainers(t, d, "onhost", 1)
	if got := d.MustDocker(t, "inspect", "--format", "{{.HostConfig.NetworkMode}}", ids[0]); got != "host" {
		t.Errorf("NetworkMode %q, want host", got)
	}
	if got := d.MustDocker(t, "service", "inspect", "onhost", "--format", "{{len .Endpoint.VirtualIPs}}"); got != "0" {
		t.Errorf("virtual IPs on the host network: %s", got)
	}
	host, _ := os.Hostname()
	client := &http.Client{Timeout: 2 * time.Second}
	harness.Eventually(t, 30*time.Second, func() (bool, string) {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "Hostname: "+host+"\n"), string(b)
	})
	// The predefined network is found by name for services, never listed, never removed.
	if out := d.MustDocker(t, "network", "ls", "--filter", "name=host", "--format", "{{.Name}} {{.Scope}}"); out != "host local" {
		t.Errorf("network ls shows %q, want only the node's own host network", out)
	}
}
