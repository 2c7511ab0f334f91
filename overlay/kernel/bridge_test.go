package kernel

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// TestAttachToBridge: a netns on the gateway bridge reaches the bridge's address and has its
// default route via it; detach and removal leave nothing.
func TestAttachToBridge(t *testing.T) {
	requireRoot(t)
	host, _ := testHosts(t)
	k := newTestKernel(t, host)
	const bridge = "shoal_gwbridge"
	addr := netip.MustParsePrefix("172.18.0.2/16")
	gw := netip.MustParseAddr("172.18.0.1")
	var ctr string
	for range 2 { // idempotent
		in(t, host, func() (err error) {
			if err = k.EnsureBridge(bridge, netip.MustParsePrefix("172.18.0.1/16")); err != nil {
				return err
			}
			if ctr, err = k.NewNetNS("ctr"); err != nil {
				return err
			}
			return k.AttachToBridge(bridge, ctr, "eth1", addr, gw)
		})
	}
	hostLinks := links(t, host)
	if len(hostLinks) != 4 || hostLinks[0] != "lo" || hostLinks[1] != bridge || hostLinks[2] != "tp0" ||
		!strings.HasPrefix(hostLinks[3], "ve-") || len(hostLinks[3]) != 13 {
		t.Errorf("host links = %v, want [lo shoal_gwbridge tp0 ve-<10 hex>]", hostLinks)
	}
	if m := linkIn(t, host, hostLinks[3]).Attrs().MasterIndex; m != linkIn(t, host, bridge).Attrs().Index {
		t.Errorf("%s not enslaved to %s", hostLinks[3], bridge)
	}
	if mac := linkIn(t, ctr, "eth1").Attrs().HardwareAddr.String(); mac != "02:42:ac:12:00:02" {
		t.Errorf("eth1 MAC = %s, want 02:42:ac:12:00:02", mac)
	}
	err := withNS(ctr, func(h *netlink.Handle, _ netns.NsHandle) error {
		routes, err := h.RouteList(nil, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if r.Dst == nil || r.Dst.String() == "0.0.0.0/0" {
				if !r.Gw.Equal(net.ParseIP("172.18.0.1")) {
					t.Errorf("default route via %v, want 172.18.0.1", r.Gw)
				}
				return nil
			}
		}
		t.Errorf("no default route in %v", routes)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The container reaches the bridge's address, and through the default route, the host's
	// other address.
	for _, listen := range []string{"172.18.0.1:0", "198.18.0.1:0"} {
		target := serveIn(t, host, listen)
		if line, err := dialFrom(ctr, target, 5*time.Second); err != nil || line != "pong" {
			t.Errorf("ctr -> %s: %q, %v; want pong", target, line, err)
		}
	}

	for range 2 {
		in(t, host, func() error { return k.DetachFromBridge(ctr, "eth1") })
	}
	if got := links(t, ctr); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("container links after detach = %v, want [lo]", got)
	}
	for range 2 {
		in(t, host, func() error { return k.RemoveBridge(bridge) })
	}
	if got := links(t, host); !slices.Equal(got, []string{"lo", "tp0"}) {
		t.Errorf("host links after RemoveBridge = %v, want [lo tp0]", got)
	}
}

// TestCleanupRemovesBridgeVeths: Cleanup removes ve-* veths of bridge attachments and netns files.
func TestCleanupRemovesBridgeVeths(t *testing.T) {
	requireRoot(t)
	host, _ := testHosts(t)
	k := newTestKernel(t, host)
	other := testNetNS(t, "elsewhere") // a netns Cleanup must not touch: not under k's dir
	in(t, host, func() error {
		if err := k.EnsureBridge("br-test", netip.MustParsePrefix("172.19.0.1/16")); err != nil {
			return err
		}
		return k.AttachToBridge("br-test", other, "eth0", netip.MustParsePrefix("172.19.0.2/16"), netip.Addr{})
	})
	if got := links(t, host); len(got) != 4 {
		t.Fatalf("host links = %v, want lo, br-test, tp0 and a ve-", got)
	}
	in(t, host, k.Cleanup)
	if got := links(t, host); !slices.Equal(got, []string{"br-test", "lo", "tp0"}) {
		t.Errorf("host links after Cleanup = %v, want [br-test lo tp0]", got)
	}
	if got := links(t, other); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("other netns links after Cleanup = %v, want [lo]", got)
	}
	if !isNetNS(other) {
		t.Errorf("Cleanup removed a netns outside its directory")
	}
}

// TestNewNetNS: the netns has lo up, a second call keeps the same netns, removal is idempotent.
func TestNewNetNS(t *testing.T) {
	requireRoot(t)
	host, _ := testHosts(t)
	k := newTestKernel(t, host)
	ino := func(path string) uint64 {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	p1, err := k.NewNetNS("c1")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := k.NewNetNS("c1")
	if err != nil || p2 != p1 {
		t.Fatalf("second NewNetNS = %s, %v; want %s", p2, err, p1)
	}
	if ino(p1) != ino(p2) || ino(p1) == ino(host) {
		t.Errorf("netns identity: first %d second %d host %d", ino(p1), ino(p2), ino(host))
	}
	if lo := linkIn(t, p1, "lo"); lo.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("lo is down")
	}
	if _, err := k.NewNetNS("../x"); err == nil {
		t.Errorf("NewNetNS(../x) succeeded")
	}
	for range 2 {
		if err := k.RemoveNetNS("c1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := dirEntries(t, k.dir); len(got) != 0 {
		t.Errorf("dir after RemoveNetNS = %v", got)
	}
	if got := mountsUnder(t, p1); len(got) != 0 {
		t.Errorf("mounts left: %v", got)
	}
}
