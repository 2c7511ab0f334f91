package kernel

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
}

// testNetNS makes a netns bind-mounted in a fresh temporary directory, removed at cleanup.
func testNetNS(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := createNetNS(path); err != nil {
		t.Fatalf("make netns %s: %v", name, err)
	}
	t.Cleanup(func() {
		deleteLinksIn(path)
		if err := removeNetNS(path); err != nil {
			t.Errorf("remove netns %s: %v", name, err)
		}
	})
	return path
}

// testHosts makes two "hosts": netns joined by a veth tp0 <-> tp0, 198.18.0.1/24 and 198.18.0.2/24.
func testHosts(t *testing.T) (a, b string) {
	t.Helper()
	a, b = testNetNS(t, "hostA"), testNetNS(t, "hostB")
	bns, err := netns.GetFromPath(b)
	if err != nil {
		t.Fatal(err)
	}
	defer bns.Close()
	err = withNS(a, func(h *netlink.Handle, _ netns.NsHandle) error {
		veth := netlink.NewVeth(netlink.LinkAttrs{Name: "tp0", TxQLen: -1})
		veth.PeerName = "tp0"
		veth.PeerNamespace = netlink.NsFd(bns)
		return h.LinkAdd(veth)
	})
	if err != nil {
		t.Fatalf("veth between hosts: %v", err)
	}
	for path, addr := range map[string]string{a: "198.18.0.1/24", b: "198.18.0.2/24"} {
		err := withNS(path, func(h *netlink.Handle, _ netns.NsHandle) error {
			l, err := h.LinkByName("tp0")
			if err != nil {
				return err
			}
			a, _ := netlink.ParseAddr(addr)
			if err := h.AddrAdd(l, a); err != nil {
				return err
			}
			return h.LinkSetUp(l)
		})
		if err != nil {
			t.Fatalf("configure tp0 in %s: %v", path, err)
		}
	}
	return a, b
}

// newTestKernel runs New inside the host netns; its Cleanup and Close run at test cleanup.
func newTestKernel(t *testing.T, host string) *Kernel {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "netns")
	var k *Kernel
	if err := Do(host, func() (err error) { k, err = New(dir); return err }); err != nil {
		t.Fatalf("New in %s: %v", host, err)
	}
	t.Cleanup(func() {
		if err := k.Cleanup(); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
		k.Close()
	})
	return k
}

// in runs fn inside the netns at path, failing the test on error.
func in(t *testing.T, path string, fn func() error) {
	t.Helper()
	if err := Do(path, fn); err != nil {
		t.Fatalf("in %s: %v", path, err)
	}
}

// serveIn listens on addr (port 0 picks one) inside the netns at path and answers every
// connection with "pong\n". It returns the listening address.
func serveIn(t *testing.T, path, addr string) string {
	t.Helper()
	var ln net.Listener
	in(t, path, func() (err error) { ln, err = net.Listen("tcp4", addr); return err })
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "pong\n")
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// dialFrom connects to addr from inside the netns at path and returns the first line it reads.
func dialFrom(path, addr string, timeout time.Duration) (string, error) {
	var line string
	err := Do(path, func() error {
		c, err := net.DialTimeout("tcp4", addr, timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		line, err = bufio.NewReader(c).ReadString('\n')
		return err
	})
	return strings.TrimSpace(line), err
}

// links returns the names of the interfaces in the netns at path, sorted.
func links(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	err := withNS(path, func(h *netlink.Handle, _ netns.NsHandle) error {
		ls, err := h.LinkList()
		for _, l := range ls {
			names = append(names, l.Attrs().Name)
		}
		return err
	})
	if err != nil {
		t.Fatalf("list links in %s: %v", path, err)
	}
	slices.Sort(names)
	return names
}

// linkIn returns the interface name in the netns at path.
func linkIn(t *testing.T, path, name string) netlink.Link {
	t.Helper()
	var l netlink.Link
	err := withNS(path, func(h *netlink.Handle, _ netns.NsHandle) (err error) {
		l, err = h.LinkByName(name)
		return err
	})
	if err != nil {
		t.Fatalf("find %s in %s: %v", name, path, err)
	}
	return l
}

// mountsUnder returns the mount points under dir in our mount namespace.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			out = append(out, f[4])
		}
	}
	return out
}

// dirEntries returns the names in dir ([] when it does not exist).
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	names := []string{}
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
