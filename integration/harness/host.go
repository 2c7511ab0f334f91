package harness

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// Host is one test host of a Cluster: a network namespace with one
// address on the cluster's bridge, and its shoald. Its methods without a
// testing.TB report to the test that made the cluster and must be called
// from that test's goroutine.
type Host struct {
	Name   string  // "host1": its hostname, daemon name and bridge port
	Addr   string  // "198.18.0.1", on its eth0
	NetNS  string  // its namespace, a name under /run/netns
	Daemon *Daemon // its shoald

	c *Cluster

	mu     sync.Mutex
	frozen bool
	slow   *slowLink
}

// Docker runs the docker CLI against this host's daemon (see Daemon.Docker).
func (h *Host) Docker(t testing.TB, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return h.Daemon.Docker(t, args...)
}

// MustDocker runs the docker CLI against this host's daemon and fails the
// test unless it exits 0 (see Daemon.MustDocker).
func (h *Host) MustDocker(t testing.TB, args ...string) string {
	t.Helper()
	return h.Daemon.MustDocker(t, args...)
}

// Client returns a Docker Go SDK client for this host's daemon.
func (h *Host) Client(t testing.TB) *client.Client {
	t.Helper()
	return h.Daemon.Client(t)
}

// Dial connects from inside this host's namespace, e.g. to
// "198.18.0.2:8080". addr must be an IP literal with a port.
func (h *Host) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return DialInNetNS(ctx, h.NetNS, network, addr)
}

// Listen listens inside this host's namespace, e.g. on h.Addr+":0".
func (h *Host) Listen(network, addr string) (net.Listener, error) {
	return ListenInNetNS(h.NetNS, network, addr)
}

// Command prepares name with args to run inside this host's network
// namespace (through nsenter --net). Processes it starts that are still in
// the namespace at cleanup are killed then.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + netnsPath(h.NetNS), "--", name}, args...)...)
}

// Kill SIGKILLs the host's daemon, as a crash: its containers keep running
// (see Daemon.Kill). A frozen daemon dies too.
func (h *Host) Kill() {
	h.Daemon.Kill()
	h.mu.Lock()
	h.frozen = false
	h.mu.Unlock()
}

// Start starts the stopped or killed daemon again on the same data root
// and waits for /_ping.
func (h *Host) Start() {
	h.c.t.Helper()
	h.Daemon.Start()
}

// Restart stops the daemon (SIGTERM; thawed first if frozen) and starts it
// again.
func (h *Host) Restart() {
	h.c.t.Helper()
	h.thaw()
	h.Daemon.Restart()
}

// Freeze stops the daemon process with SIGSTOP and waits until it is
// stopped: it holds its sockets and state but answers nothing, neither the
// API nor its peers. Only the daemon is frozen, not its containers.
func (h *Host) Freeze() {
	t := h.c.t
	t.Helper()
	pid := h.Daemon.Pid()
	if pid == 0 {
		t.Fatalf("harness: freeze %s: daemon not running", h.Name)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("harness: freeze %s: %v", h.Name, err)
	}
	h.mu.Lock()
	h.frozen = true
	h.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for procState(pid) != 'T' {
		if time.Now().After(deadline) {
			t.Fatalf("harness: freeze %s: pid %d in state %q after SIGSTOP", h.Name, pid, procState(pid))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Thaw resumes a frozen daemon with SIGCONT.
func (h *Host) Thaw() {
	h.c.t.Helper()
	h.thaw()
}

func (h *Host) thaw() {
	h.mu.Lock()
	frozen := h.frozen
	h.frozen = false
	h.mu.Unlock()
	if pid := h.Daemon.Pid(); frozen && pid != 0 {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}

// Frozen reports whether Freeze holds the daemon.
func (h *Host) Frozen() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.frozen
}

// procState is the state letter of pid ('R', 'S', 'T'...), 0 if gone.
func procState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	data := string(b)
	i := strings.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}
