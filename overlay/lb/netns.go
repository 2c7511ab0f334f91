package lb

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// bigReadBuffer gives a connection room for the kernel's answers to a whole batch: with the
// default buffer, a table of more than about 65 VIPs fails with ENOBUFS (google/nftables#103).
var bigReadBuffer = nftables.WithSockOptions(func(c *netlink.Conn) error { return c.SetReadBuffer(16 << 20) })

// openConn returns an nftables connection to the netns at nsPath ("" = the
// caller's) and a function that releases it.
func openConn(nsPath string) (*nftables.Conn, func(), error) {
	if nsPath == "" {
		c, err := nftables.New(bigReadBuffer)
		if err != nil {
			return nil, nil, fmt.Errorf("nftables: %w", err)
		}
		return c, func() {}, nil
	}
	f, err := os.Open(nsPath)
	if err != nil {
		return nil, nil, fmt.Errorf("open netns: %w", err)
	}
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())), bigReadBuffer)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("nftables in %s: %w", nsPath, err)
	}
	return c, func() { f.Close() }, nil
}

// inNetNS runs fn on a locked OS thread that has joined the netns at
// nsPath ("" = run fn directly). The thread goes back to its original
// netns afterwards; if that fails it stays locked so that the Go runtime
// discards it rather than reuse it in the wrong netns.
func inNetNS(nsPath string, fn func() error) error {
	if nsPath == "" {
		return fn()
	}
	target, err := os.Open(nsPath)
	if err != nil {
		return fmt.Errorf("open netns: %w", err)
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
			errc <- fmt.Errorf("setns %s: %w", nsPath, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it exits with this goroutine.
			errc <- fmt.Errorf("restore netns: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// writeSysctl writes value to /proc/sys/<rel> ("net/ipv4/ip_forward") in
// the netns of the calling thread: net sysctls belong to the netns of the
// thread that opens them.
func writeSysctl(rel, value string) error {
	p := filepath.Join("/proc/sys", rel)
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", rel, value, err)
	}
	return nil
}

// EnableRouteLocalnet sets net.ipv4.conf.<ifName>.route_localnet=1 in the
// caller's netns, so that connections to 127.0.0.1 on a published port can
// be DNATed out of ifName (the gateway bridge to the ingress sandbox).
func EnableRouteLocalnet(ifName string) error {
	if ifName == "" || strings.ContainsAny(ifName, "/.") {
		return fmt.Errorf("invalid interface name %q", ifName)
	}
	return writeSysctl("net/ipv4/conf/"+ifName+"/route_localnet", "1")
}
