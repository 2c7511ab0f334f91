package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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

// netnsPath turns a namespace name from /run/netns into its path; a path
// (anything with a slash) is returned as is.
func netnsPath(ns string) string {
	if strings.Contains(ns, "/") {
		return ns
	}
	return "/run/netns/" + ns
}

// InNetNS calls f on an OS thread that has entered the network namespace
// ns (a name under /run/netns, or a path). Sockets f creates (net.Dial,
// net.Listen) stay in that namespace for their whole life. f runs on its
// own locked goroutine; should restoring the thread's namespace fail, the
// thread is discarded rather than reused.
func InNetNS(ns string, f func() error) error {
	target, err := os.Open(netnsPath(ns))
	if err != nil {
		return fmt.Errorf("harness: netns %s: %w", ns, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("harness: enter netns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Stay locked: the thread ends with this goroutine.
			errc <- fmt.Errorf("harness: leave netns %s: %w", ns, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// DialInNetNS dials addr from inside the network namespace ns. addr must
// be an IP literal with a port: no name resolution happens there.
func DialInNetNS(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := InNetNS(ns, func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// ListenInNetNS listens on addr inside the network namespace ns.
func ListenInNetNS(ns, network, addr string) (net.Listener, error) {
	var l net.Listener
	err := InNetNS(ns, func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// netnsInode is the inode of a network namespace, as /proc/PID/ns/net
// links show it ("net:[inode]").
func netnsInode(ns string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(netnsPath(ns), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// procsInNetNS lists the processes whose network namespace is ns.
func procsInNetNS(ns string) []proc {
	ino, err := netnsInode(ns)
	if err != nil {
		return nil
	}
	want := fmt.Sprintf("net:[%d]", ino)
	var out []proc
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		link, err := os.Readlink("/proc/" + e.Name() + "/ns/net")
		if err != nil || link != want {
			continue
		}
		if _, start, ok := procStat(pid); ok {
			out = append(out, proc{pid: pid, start: start})
		}
	}
	return out
}
