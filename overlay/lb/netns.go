package lb

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"

	"github.com/shoal-project/shoal/overlay/kernel"
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

// inNetNS runs fn on a locked OS thread inside the netns at nsPath (kernel.Do), or directly for
// "" (the caller's).
func inNetNS(nsPath string, fn func() error) error {
	if nsPath == "" {
		return fn()
	}
	return kernel.Do(nsPath, fn)
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
