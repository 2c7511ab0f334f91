package lb

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// needRoot skips tests that need CAP_NET_ADMIN.
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// run runs a command and fails the test on error.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// testNS is a network namespace made by the test (ip netns add), removed at
// cleanup.
type testNS struct{ name, path string }

func newNS(t testing.TB, tag string) testNS {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "lbtest-" + hex.EncodeToString(b) + "-" + tag
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return testNS{name: name, path: "/run/netns/" + name}
}

// ip runs "ip -n <ns> args...".
func (n testNS) ip(t testing.TB, args ...string) {
	t.Helper()
	run(t, "ip", append([]string{"-n", n.name}, args...)...)
}

// ruleset returns "nft list ruleset" inside the netns.
func (n testNS) ruleset(t testing.TB) string {
	t.Helper()
	return run(t, "ip", "netns", "exec", n.name, "nft", "list", "ruleset")
}

// link makes a veth pair: aIf in a (addr aAddr unless "") and bIf in b
// (addr bAddr unless ""), both up.
func link(t testing.TB, a testNS, aIf, aAddr string, b testNS, bIf, bAddr string) {
	t.Helper()
	a.ip(t, "link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.name)
	if aAddr != "" {
		a.ip(t, "addr", "add", aAddr, "dev", aIf)
	}
	if bAddr != "" {
		b.ip(t, "addr", "add", bAddr, "dev", bIf)
	}
	a.ip(t, "link", "set", aIf, "up")
	b.ip(t, "link", "set", bIf, "up")
}

// bridge makes a bridge named br in n with addr (unless "") and enslaves
// the given interfaces of n to it.
func bridge(t testing.TB, n testNS, br, addr string, ports ...string) {
	t.Helper()
	n.ip(t, "link", "add", br, "type", "bridge")
	if addr != "" {
		n.ip(t, "addr", "add", addr, "dev", br)
	}
	n.ip(t, "link", "set", br, "up")
	for _, p := range ports {
		n.ip(t, "link", "set", p, "master", br)
	}
}

// serveTCP listens on addr inside n and answers every connection with
// answer, until the test ends.
func serveTCP(t *testing.T, n testNS, addr, answer string) {
	t.Helper()
	serveTCPWith(t, n, addr, func(net.Conn) string { return answer })
}

// serveTCPWith is serveTCP with the answer made for each connection.
func serveTCPWith(t *testing.T, n testNS, addr string, answer func(net.Conn) string) {
	t.Helper()
	var l net.Listener
	err := inNetNS(n.path, func() (err error) {
		l, err = net.Listen("tcp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen %s in %s: %v", addr, n.name, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, answer(c))
			c.Close()
		}
	}()
}

// dialTCP connects to addr from inside n and returns what the server says.
func dialTCP(n testNS, addr string) (string, error) {
	var c net.Conn
	err := inNetNS(n.path, func() (err error) {
		c, err = net.DialTimeout("tcp4", addr, 3*time.Second)
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", errors.New("empty answer")
	}
	return string(b), nil
}

// answers dials addr from n count times and counts the answers; any error
// fails the test.
func answers(t *testing.T, n testNS, addr string, count int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for i := range count {
		a, err := dialTCP(n, addr)
		if err != nil {
			t.Fatalf("dial %d to %s from %s: %v", i, addr, n.name, err)
		}
		got[a]++
	}
	return got
}

func keys(m map[string]int) string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%s:%d", k, v))
	}
	return strings.Join(s, " ")
}

// serveUDP answers every datagram to addr inside n with answer.
func serveUDP(t *testing.T, n testNS, addr, answer string) {
	t.Helper()
	var pc net.PacketConn
	err := inNetNS(n.path, func() (err error) {
		pc, err = net.ListenPacket("udp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen udp %s in %s: %v", addr, n.name, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(answer), from)
		}
	}()
}

// udpClient is a connected UDP socket made inside a netns.
type udpClient struct{ c net.Conn }

func newUDPClient(t *testing.T, n testNS, addr string) udpClient {
	t.Helper()
	var c net.Conn
	err := inNetNS(n.path, func() (err error) {
		c, err = net.Dial("udp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("udp dial %s in %s: %v", addr, n.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return udpClient{c}
}

// ask sends a datagram and returns the answer.
func (u udpClient) ask(t *testing.T) string {
	t.Helper()
	if _, err := u.c.Write([]byte("?")); err != nil {
		t.Fatalf("udp write: %v", err)
	}
	u.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 64)
	n, err := u.c.Read(buf)
	if err != nil {
		t.Fatalf("udp read: %v", err)
	}
	return string(buf[:n])
}
