package harness

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Addresses of a cluster's network. Every cluster has its own bridge in
// its own namespace, so clusters of concurrent tests use the same subnet
// without meeting.
const (
	ClusterSubnet  = "198.18.0.0/24" // inside 198.18.0.0/15, set aside for network tests
	RegistryHostIP = "198.18.0.254"  // the registry host, when ClusterOptions.Registry
	RegistryPort   = 5000
	maxHosts       = 200 // hosts are 198.18.0.1 up to .200
)

// lockDir holds one lock file per cluster name: a live lock means a live
// cluster; a free one with resources of that name means a crashed run.
const lockDir = "/run/shoal-harness"

// ClusterOptions configure NewCluster.
type ClusterOptions struct {
	// Name prefixes every resource of the cluster (namespaces
	// shc-<Name>-..., directory $TMPDIR/shc-<Name>): 1 to 24 characters
	// of [a-z0-9-], starting with a letter or digit. Default: derived from
	// the test's name. Resources left with this name by a crashed run are
	// removed at start; two live clusters cannot share a name.
	Name string
	// Daemon is the template of every host's daemon options. Name, NetNS,
	// Hostname and Dir are set per host; with Registry,
	// "--insecure-registry 198.18.0.254:5000" is added to Args.
	Daemon Options
	// Registry runs a registry host at 198.18.0.254:5000 on the cluster's
	// bridge (Cluster.Registry; push with PushImages).
	Registry bool
}

// Cluster is N test hosts on one machine: each host is a network namespace
// with its own address in 198.18.0.0/24, its veth plugged into a bridge
// that lives in a namespace of its own, and one shoald (own data root, exec
// root, API socket and hostname). No namespace has a route off the bridge.
// Methods report failures to the test that made the cluster and must be
// called from its goroutine.
type Cluster struct {
	Name        string
	Hosts       []*Host   // Hosts[i] is host<i+1> at 198.18.0.<i+1>
	Registry    *Registry // the registry host, with ClusterOptions.Registry
	BridgeNetNS string    // the namespace holding the bridge br0
	Dir         string    // parent of the daemons' directories

	t      testing.TB
	prefix string // "shc-<Name>-": every namespace of the cluster
	lock   *os.File

	mu      sync.Mutex
	cut     map[*Host]bool
	blocked map[[2]*Host]bool
}

var clusterNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,23}$`)

// NewCluster makes n hosts (host1 ... hostn at 198.18.0.1 ... .n) and
// starts a shoald on each, after removing what a crashed run of the same
// name left. Everything is removed at test cleanup, also on failure:
// daemons (as StartDaemon's cleanup does), the registry, every process
// still in the cluster's namespaces, the namespaces (with their veths,
// bridge, nftables and iptables state) and the directory.
func NewCluster(t testing.TB, n int, opts ClusterOptions) *Cluster {
	t.Helper()
	if n < 1 || n > maxHosts {
		t.Fatalf("harness: NewCluster: %d hosts, want 1 to %d", n, maxHosts)
	}
	name := opts.Name
	if name == "" {
		name = clusterName(t.Name())
	}
	if !clusterNameRE.MatchString(name) {
		t.Fatalf("harness: cluster name %q: want 1 to 24 of [a-z0-9-], not starting with -", name)
	}
	c := &Cluster{
		Name: name, t: t, prefix: "shc-" + name + "-",
		BridgeNetNS: "shc-" + name + "-br",
		Dir:         filepath.Join(os.TempDir(), "shc-"+name),
		cut:         map[*Host]bool{}, blocked: map[[2]*Host]bool{},
	}
	lock, err := lockCluster(name)
	if err != nil {
		t.Fatal(err)
	}
	c.lock = lock
	t.Cleanup(c.cleanup)
	if removed := removeLeftovers(c.prefix, c.Dir); len(removed) > 0 {
		t.Logf("harness: removed leftovers of a previous run of cluster %s: %s", name, strings.Join(removed, "; "))
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.makeBridge(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		h := &Host{Name: "host" + strconv.Itoa(i+1), Addr: "198.18.0." + strconv.Itoa(i+1), c: c}
		h.NetNS = c.prefix + h.Name
		if err := c.plug(h.NetNS, h.Name, h.Addr); err != nil {
			t.Fatal(err)
		}
		c.Hosts = append(c.Hosts, h)
	}
	args := append([]string(nil), opts.Daemon.Args...)
	if opts.Registry {
		ns := c.prefix + "reg"
		if err := c.plug(ns, "reg", RegistryHostIP); err != nil {
			t.Fatal(err)
		}
		c.Registry = startRegistry(t, ns, RegistryHostIP+":"+strconv.Itoa(RegistryPort), nil)
		args = append(args, "--insecure-registry", c.Registry.Addr)
	}
	for _, h := range c.Hosts {
		o := opts.Daemon
		o.Name, o.NetNS, o.Hostname, o.Dir, o.Args = h.Name, h.NetNS, h.Name, c.Dir, args
		h.Daemon = StartDaemon(t, o)
	}
	// Registered last, so it runs first: a frozen daemon cannot stop.
	t.Cleanup(func() {
		for _, h := range c.Hosts {
			h.thaw()
		}
	})
	return c
}

// clusterName derives a cluster name from a test name: its first letters
// and digits, lower-cased, and a hash of the whole.
func clusterName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		if b.Len() == 15 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	h := fnv.New32a()
	h.Write([]byte(test))
	return fmt.Sprintf("%s-%06x", b.String(), h.Sum32()&0xffffff)
}

// lockCluster takes the lock of cluster name for this process's life.
func lockCluster(name string) (*os.File, error) {
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	path := filepath.Join(lockDir, name+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("harness: cluster name %q is in use by a running test (lock %s); set ClusterOptions.Name", name, path)
		}
		return nil, fmt.Errorf("harness: lock %s: %w", path, err)
	}
	return f, nil
}

// cutTable is the nftables ruleset of the bridge namespace: the ports of
// cut hosts, and the pairs of ports of partitioned hosts, drop what they
// forward. The bridge family sees every frame between ports, ARP included.
const cutTable = `table bridge shoal_harness {
	set cut { type ifname; }
	set blocked { type ifname . ifname; }
	chain forward {
		type filter hook forward priority -200; policy accept;
		iifname @cut drop
		oifname @cut drop
		iifname . oifname @blocked drop
	}
}
`

// makeBridge creates the bridge namespace with br0 and the cut table.
func (c *Cluster) makeBridge() error {
	ns := c.BridgeNetNS
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"-n", ns, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0"},
		{"-n", ns, "link", "set", "br0", "up"},
	} {
		if err := run("", "ip", args...); err != nil {
			return err
		}
	}
	return nsRun(ns, cutTable, "nft", "-f", "-")
}

// plug creates namespace ns with loopback up and an eth0 holding ip/24,
// whose veth peer is the bridge port port. No other route is set: the
// namespace reaches 198.18.0.0/24 and nothing else.
func (c *Cluster) plug(ns, port, ip string) error {
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", c.BridgeNetNS, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"-n", c.BridgeNetNS, "link", "set", port, "master", "br0", "up"},
		{"-n", ns, "addr", "add", ip + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
	} {
		if err := run("", "ip", args...); err != nil {
			return err
		}
	}
	return nil
}

// cleanup runs after the daemons' and the registry's own cleanups.
func (c *Cluster) cleanup() {
	t := c.t
	defer c.lock.Close() // releases the lock
	for _, h := range c.Hosts {
		if err := h.stopSlow(); err != nil {
			t.Errorf("harness: %s: %v", h.Name, err)
		}
	}
	// Whatever still runs in the cluster's namespaces (a daemon that never
	// came up, a process a test started there) or inside its directory.
	var left []proc
	for _, ns := range listNetNS(c.prefix) {
		left = append(left, procsInNetNS(ns)...)
	}
	left = append(left, procsUnder(c.Dir)...)
	if len(left) > 0 {
		t.Logf("harness: killing processes left in cluster %s: %v", c.Name, left)
		if alive := killAll(left); len(alive) > 0 {
			t.Errorf("harness: processes of cluster %s survive SIGKILL: %v", c.Name, alive)
		}
	}
	// Deleting the namespaces deletes their veths, the bridge and their
	// nftables and iptables state.
	for _, ns := range listNetNS(c.prefix) {
		if err := run("", "ip", "netns", "del", ns); err != nil {
			t.Errorf("harness: %v", err)
		}
	}
	if left := unmountAll(c.Dir); len(left) > 0 {
		t.Errorf("harness: mounts left under %s: %v", c.Dir, left)
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		t.Errorf("harness: %v", err)
	}
	if left := listNetNS(c.prefix); len(left) > 0 {
		t.Errorf("harness: namespaces of cluster %s left: %v", c.Name, left)
	}
}

// removeLeftovers removes what a crashed run left under this prefix and
// dir: processes in its namespaces or rooted in dir, the namespaces,
// mounts and dir. It returns what it removed.
func removeLeftovers(prefix, dir string) []string {
	var removed []string
	nss := listNetNS(prefix)
	var procs []proc
	for _, ns := range nss {
		procs = append(procs, procsInNetNS(ns)...)
	}
	procs = append(procs, procsUnder(dir)...)
	if len(procs) > 0 {
		killAll(procs)
		removed = append(removed, fmt.Sprintf("processes %v", procs))
	}
	for _, ns := range nss {
		_ = run("", "ip", "netns", "del", ns)
		removed = append(removed, "netns "+ns)
	}
	if _, err := os.Stat(dir); err == nil {
		if m := mountsUnder(dir); len(m) > 0 {
			unmountAll(dir)
			removed = append(removed, fmt.Sprintf("%d mounts", len(m)))
		}
		_ = os.RemoveAll(dir)
		removed = append(removed, "directory "+dir)
	}
	return removed
}

// listNetNS lists the names under /run/netns that start with prefix.
func listNetNS(prefix string) []string {
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// procsUnder lists the processes whose executable, root or working
// directory is dir or below it.
func procsUnder(dir string) []proc {
	dir = filepath.Clean(dir)
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		for _, link := range []string{"exe", "root", "cwd"} {
			target, err := os.Readlink("/proc/" + e.Name() + "/" + link)
			if err != nil || (target != dir && !strings.HasPrefix(target, dir+"/")) {
				continue
			}
			if _, start, ok := procStat(pid); ok {
				out = append(out, proc{pid: pid, start: start})
			}
			break
		}
	}
	return out
}
