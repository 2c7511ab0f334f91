package kernel

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const testNetID = "3k9x2v7q1m0a8b6c5d4e"

func testNetwork(vtep string) NetworkConfig {
	return NetworkConfig{
		ID:        testNetID,
		VNI:       4242,
		Subnet:    netip.MustParsePrefix("10.0.9.0/24"),
		Gateway:   netip.MustParseAddr("10.0.9.1"),
		LocalVTEP: netip.MustParseAddr(vtep),
		Port:      4789,
	}
}

// TestOverlayAcrossHosts builds one overlay network on two hosts and proves a TCP connection
// between containers crosses the VXLAN, stops when the peer is removed, and that removal leaves
// nothing behind.
func TestOverlayAcrossHosts(t *testing.T) {
	requireRoot(t)
	hostA, hostB := testHosts(t)
	kA, kB := newTestKernel(t, hostA), newTestKernel(t, hostB)
	ipA, ipB := netip.MustParseAddr("10.0.9.2"), netip.MustParseAddr("10.0.9.3")
	vtepA, vtepB := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("198.18.0.2")

	var ctrA, ctrB string
	setUp := func() {
		t.Helper()
		in(t, hostA, func() (err error) {
			if err = kA.EnsureNetwork(testNetwork("198.18.0.1")); err != nil {
				return err
			}
			if ctrA, err = kA.NewNetNS("ctrA"); err != nil {
				return err
			}
			if err = kA.AttachContainer(testNetID, ctrA, "eth0", netip.PrefixFrom(ipA, 24)); err != nil {
				return err
			}
			return kA.SetPeers(testNetID, []Peer{{IP: ipB, MAC: MACFor(ipB), VTEP: vtepB}})
		})
		in(t, hostB, func() (err error) {
			if err = kB.EnsureNetwork(testNetwork("198.18.0.2")); err != nil {
				return err
			}
			if ctrB, err = kB.NewNetNS("ctrB"); err != nil {
				return err
			}
			if err = kB.AttachContainer(testNetID, ctrB, "eth0", netip.PrefixFrom(ipB, 24)); err != nil {
				return err
			}
			return kB.SetPeers(testNetID, []Peer{{IP: ipA, VTEP: vtepA}}) // MAC nil: MACFor
		})
	}
	setUp()
	setUp() // every call is idempotent

	// The kernel state: the network netns holds br0 (gateway) and vx-4242; the host netns has no
	// VXLAN device (it was moved), the container has eth0.
	netA := kA.NetworkNS(testNetID)
	if want := kA.dir + "/ov-3k9x2v7q1m0a"; netA != want {
		t.Fatalf("NetworkNS = %s, want %s", netA, want)
	}
	if got, want := links(t, hostA), []string{"lo", "tp0"}; !slices.Equal(got, want) {
		t.Errorf("host A links = %v, want %v", got, want)
	}
	got := links(t, netA)
	if len(got) != 4 || got[0] != "br0" || got[1] != "lo" || got[2][:3] != "ve-" || got[3] != "vx-4242" {
		t.Errorf("network netns links = %v, want [br0 lo ve-... vx-4242]", got)
	}
	vx, ok := linkIn(t, netA, "vx-4242").(*netlink.Vxlan)
	if !ok || vx.VxlanId != 4242 || vx.Port != 4789 || vx.Learning || !vx.Proxy || vx.MTU != 1450 ||
		!vx.SrcAddr.Equal(net.ParseIP("198.18.0.1")) || vx.MasterIndex != linkIn(t, netA, "br0").Attrs().Index {
		t.Errorf("vxlan = %+v", linkIn(t, netA, "vx-4242"))
	}
	eth0 := linkIn(t, ctrA, "eth0")
	if eth0.Attrs().HardwareAddr.String() != "02:42:0a:00:09:02" || eth0.Attrs().MTU != 1450 {
		t.Errorf("eth0: MAC %v MTU %d, want 02:42:0a:00:09:02 1450", eth0.Attrs().HardwareAddr, eth0.Attrs().MTU)
	}
	err := withNS(netA, func(h *netlink.Handle, _ netns.NsHandle) error {
		fdb, err := h.NeighList(vx.Index, unix.AF_BRIDGE)
		if err != nil {
			return err
		}
		n := 0
		for _, e := range fdb {
			if e.Flags&netlink.NTF_SELF != 0 && e.IP != nil {
				n++
				if e.HardwareAddr.String() != "02:42:0a:00:09:03" || !e.IP.Equal(net.ParseIP("198.18.0.2")) {
					t.Errorf("fdb entry %v -> %v, want 02:42:0a:00:09:03 -> 198.18.0.2", e.HardwareAddr, e.IP)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d fdb entries, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A connection from container A to container B crosses the VXLAN (the only path).
	addrB := serveIn(t, ctrB, "10.0.9.3:0")
	line, err := dialFrom(ctrA, addrB, 5*time.Second)
	if err != nil || line != "pong" {
		t.Fatalf("A -> B: %q, %v; want pong", line, err)
	}
	if tx := linkIn(t, netA, "vx-4242").Attrs().Statistics.TxPackets; tx == 0 {
		t.Errorf("vx-4242 on A sent no packets")
	}
	// And the other way, to the gateway too.
	addrA := serveIn(t, ctrA, "10.0.9.2:0")
	if line, err := dialFrom(ctrB, addrA, 5*time.Second); err != nil || line != "pong" {
		t.Fatalf("B -> A: %q, %v; want pong", line, err)
	}

	// Without the peer, A cannot reach B.
	in(t, hostA, func() error { return kA.SetPeers(testNetID, nil) })
	if line, err := dialFrom(ctrA, addrB, time.Second); err == nil {
		t.Fatalf("A -> B after removing the peer: %q, want an error", line)
	}
	// And with it again, it can.
	in(t, hostA, func() error {
		return kA.SetPeers(testNetID, []Peer{{IP: ipB, VTEP: vtepB}})
	})
	if line, err := dialFrom(ctrA, addrB, 5*time.Second); err != nil || line != "pong" {
		t.Fatalf("A -> B after restoring the peer: %q, %v; want pong", line, err)
	}

	// DetachContainer removes both ends.
	in(t, hostB, func() error { return kB.DetachContainer(testNetID, ctrB, "eth0") })
	if got := links(t, ctrB); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("container B links after detach = %v, want [lo]", got)
	}
	if got := links(t, kB.NetworkNS(testNetID)); !slices.Equal(got, []string{"br0", "lo", "vx-4242"}) {
		t.Errorf("network netns B links after detach = %v", got)
	}
	in(t, hostB, func() error { return kB.DetachContainer(testNetID, ctrB, "eth0") })

	// RemoveNetwork leaves no netns file, no mount, and the container's end is gone too.
	in(t, hostA, func() error { return kA.RemoveNetwork(testNetID) })
	in(t, hostA, func() error { return kA.RemoveNetwork(testNetID) })
	if got := dirEntries(t, kA.dir); !slices.Equal(got, []string{"ctrA"}) {
		t.Errorf("netns dir A = %v, want [ctrA]", got)
	}
	if got := mountsUnder(t, kA.NetworkNS(testNetID)); len(got) != 0 {
		t.Errorf("mounts left: %v", got)
	}
	if got := links(t, ctrA); !slices.Equal(got, []string{"lo"}) {
		t.Errorf("container A links after RemoveNetwork = %v, want [lo]", got)
	}

	// Cleanup (B still has its network) leaves nothing.
	in(t, hostB, kB.Cleanup)
	if got := dirEntries(t, kB.dir); len(got) != 0 {
		t.Errorf("netns dir B after Cleanup = %v, want []", got)
	}
	if got := mountsUnder(t, kB.dir); len(got) != 0 {
		t.Errorf("mounts under %s after Cleanup: %v", kB.dir, got)
	}
	if got := links(t, hostB); !slices.Equal(got, []string{"lo", "tp0"}) {
		t.Errorf("host B links after Cleanup = %v", got)
	}
}

// TestVxlanMadeInHostNetNS checks the VXLAN device's socket is in the host netns: with the
// device moved into the network's netns, UDP port 4789 is bound in the host netns only.
func TestVxlanMadeInHostNetNS(t *testing.T) {
	requireRoot(t)
	host, _ := testHosts(t)
	k := newTestKernel(t, host)
	in(t, host, func() error { return k.EnsureNetwork(testNetwork("198.18.0.1")) })
	bound := func(path string) bool {
		var err error
		Do(path, func() error {
			var c net.PacketConn
			c, err = net.ListenPacket("udp4", "198.18.0.1:4789")
			if err == nil {
				c.Close()
			}
			return nil
		})
		return err != nil
	}
	if !bound(host) {
		t.Errorf("198.18.0.1:4789 is free in the host netns; want it held by the vxlan socket")
	}
}
