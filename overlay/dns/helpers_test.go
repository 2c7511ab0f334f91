package dns

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// upstream is a fake upstream DNS server on 127.0.0.1, UDP and TCP on one port, in the test's
// own network namespace.
type upstream struct {
	addr string
	mu   sync.Mutex
	seen []string // "udp example.test." per query
}

func (u *upstream) queries() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// startUpstream runs a fake upstream answering with handle(query) (nil: no answer at all).
func startUpstream(t *testing.T, handle func(q *dns.Msg) *dns.Msg) *upstream {
	t.Helper()
	u := &upstream{}
	var (
		pc net.PacketConn
		l  net.Listener
	)
	for i := 0; ; i++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if i == 10 {
			t.Fatalf("no port free for both UDP and TCP: %v", err)
		}
	}
	u.addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		u.mu.Lock()
		u.seen = append(u.seen, w.LocalAddr().Network()+" "+q.Question[0].Name)
		u.mu.Unlock()
		if resp := handle(q); resp != nil {
			_ = w.WriteMsg(resp)
		}
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.ActivateAndServe() }()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("fake upstream did not start")
		}
		t.Cleanup(func() { _ = srv.Shutdown(); <-done })
	}
	return u
}

// answerA is an upstream handler answering every A query with ip.
func answerA(ip string) func(q *dns.Msg) *dns.Msg {
	return func(q *dns.Msg) *dns.Msg {
		resp := new(dns.Msg).SetReply(q)
		rr, err := dns.NewRR(q.Question[0].Name + " 30 IN A " + ip)
		if err != nil {
			panic(err)
		}
		resp.Answer = append(resp.Answer, rr)
		return resp
	}
}

// rcode is an upstream handler answering every query with rc.
func rcode(rc int) func(q *dns.Msg) *dns.Msg {
	return func(q *dns.Msg) *dns.Msg { return new(dns.Msg).SetRcode(q, rc) }
}

// newTestNetNS makes an empty network namespace with lo up, bind-mounted under t.TempDir(),
// and removes it at the end of the test.
func newTestNetNS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	path := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, ""); err != nil {
			errc <- err
			return
		}
		errc <- setLinkUp("lo")
	}()
	err := <-errc
	t.Cleanup(func() {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
			t.Errorf("unmount %s: %v", path, err)
		}
	})
	if err != nil {
		t.Fatalf("make netns: %v", err)
	}
	return path
}

// setLinkUp sets the link name up in the calling thread's netns.
func setLinkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// dialIn makes a connection from inside the netns at nsPath.
func dialIn(t *testing.T, nsPath, network, addr string) net.Conn {
	t.Helper()
	var conn net.Conn
	err := inNetNS(nsPath, func() error {
		var err error
		conn, err = net.DialTimeout(network, addr, 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatalf("dial %s %s in %s: %v", network, addr, nsPath, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// queryIn asks 127.0.0.11:53 from inside the netns at nsPath over network.
func queryIn(t *testing.T, nsPath, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	conn := dialIn(t, nsPath, network, "127.0.0.11:53")
	c := &dns.Client{Net: network, Timeout: 10 * time.Second}
	resp, _, err := c.ExchangeWithConn(question(name, qtype), &dns.Conn{Conn: conn})
	if err != nil {
		t.Fatalf("%s query %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return resp
}
