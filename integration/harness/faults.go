package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"
)

// Cut disconnects the host from the cluster's network: the bridge drops
// every frame from or to its port, so packets vanish (peers time out, as in
// a real partition) while its daemon keeps running and its API socket
// keeps answering. Heal undoes it.
func (h *Host) Cut() {
	c := h.c
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.nft(fmt.Sprintf("add element bridge shoal_harness cut { %q }\n", h.Name)); err != nil {
		c.t.Fatalf("harness: cut %s: %v", h.Name, err)
	}
	c.cut[h] = true
}

// Heal reconnects a host that Cut or Partition disconnected.
func (h *Host) Heal() {
	c := h.c
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var script strings.Builder
	if c.cut[h] {
		fmt.Fprintf(&script, "delete element bridge shoal_harness cut { %q }\n", h.Name)
	}
	for pair := range c.blocked {
		if pair[0] == h || pair[1] == h {
			fmt.Fprintf(&script, "delete element bridge shoal_harness blocked { %q . %q }\n", pair[0].Name, pair[1].Name)
		}
	}
	if script.Len() == 0 {
		return
	}
	if err := c.nft(script.String()); err != nil {
		c.t.Fatalf("harness: heal %s: %v", h.Name, err)
	}
	delete(c.cut, h)
	for pair := range c.blocked {
		if pair[0] == h || pair[1] == h {
			delete(c.blocked, pair)
		}
	}
}

// Partition stops all traffic between each host of a and each host of b,
// both ways; traffic within a group, and with the registry host, flows on.
// Heal (per host) or HealAll undoes it.
func (c *Cluster) Partition(a, b []*Host) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var script strings.Builder
	var pairs [][2]*Host
	for _, x := range a {
		for _, y := range b {
			if x == y {
				c.t.Fatalf("harness: partition: %s is on both sides", x.Name)
			}
			pairs = append(pairs, [2]*Host{x, y}, [2]*Host{y, x})
		}
	}
	for _, p := range pairs {
		fmt.Fprintf(&script, "add element bridge shoal_harness blocked { %q . %q }\n", p[0].Name, p[1].Name)
	}
	if len(pairs) == 0 {
		return
	}
	if err := c.nft(script.String()); err != nil {
		c.t.Fatalf("harness: partition: %v", err)
	}
	for _, p := range pairs {
		c.blocked[p] = true
	}
}

// HealAll undoes every Cut and Partition.
func (c *Cluster) HealAll() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.nft("flush set bridge shoal_harness cut\nflush set bridge shoal_harness blocked\n"); err != nil {
		c.t.Fatalf("harness: heal all: %v", err)
	}
	clear(c.cut)
	clear(c.blocked)
}

// nft runs an nft script in the bridge namespace.
func (c *Cluster) nft(script string) error {
	return nsRun(c.BridgeNetNS, script, "nft", "-f", "-")
}

// slowLink is how a host's link was slowed.
type slowLink struct {
	method string   // "netem" or "nfqueue"
	d      *delayer // with nfqueue
	delay  time.Duration
}

// nfqueueRules are the iptables rules (without -A/-D) that queue the
// packets of a host's eth0 to its delayer.
var nfqueueRules = [][]string{
	{"-t", "mangle", "POSTROUTING", "-o", "eth0", "-j", "NFQUEUE", "--queue-num", fmt.Sprint(nfQueueNum), "--queue-bypass"},
	{"-t", "mangle", "PREROUTING", "-i", "eth0", "-j", "NFQUEUE", "--queue-num", fmt.Sprint(nfQueueNum), "--queue-bypass"},
}

// netemMissing records that the kernel lacks sch_netem (tc answered
// "Specified qdisc kind is unknown"), so Slow goes to NFQUEUE directly.
var netemMissing atomic.Bool

// Slow makes the host's link slow and lossy, both ways: every packet it
// sends or receives on eth0 is delayed by delay, and lossPercent% of them
// (0 to 100) are dropped. A round trip to a healthy host thus takes 2*delay
// more. It replaces an earlier Slow; Unslow undoes it.
//
// It uses tc netem on both ends of the host's veth. Without sch_netem in
// the kernel it falls back to iptables NFQUEUE rules in the host's
// namespace, with a delayer in the test process giving the verdicts
// (fine for control traffic, not for bulk throughput). It returns an error
// when neither works; a test may skip on it.
func (h *Host) Slow(delay time.Duration, lossPercent float64) error {
	if delay < 0 || lossPercent < 0 || lossPercent > 100 {
		return fmt.Errorf("harness: slow %s: delay %v and loss %v%%: want delay >= 0 and loss in [0, 100]", h.Name, delay, lossPercent)
	}
	if err := h.stopSlow(); err != nil {
		return err
	}
	var netemErr error
	if !netemMissing.Load() {
		if netemErr = h.netem(delay, lossPercent); netemErr == nil {
			h.setSlow(&slowLink{method: "netem", delay: delay})
			h.c.t.Logf("harness: %s slowed with netem: delay %v, loss %v%%", h.Name, delay, lossPercent)
			return nil
		}
		if !strings.Contains(netemErr.Error(), "qdisc kind is unknown") {
			return fmt.Errorf("harness: slow %s: %w", h.Name, netemErr)
		}
		netemMissing.Store(true)
	} else {
		netemErr = errors.New("sch_netem: Specified qdisc kind is unknown")
	}
	d, err := newDelayer(h.NetNS, delay, lossPercent)
	if err != nil {
		return fmt.Errorf("harness: slow %s: no netem (%v), and NFQUEUE fails: %w", h.Name, netemErr, err)
	}
	for i, rule := range nfqueueRules {
		if err := h.iptables("-A", rule); err != nil {
			for _, added := range nfqueueRules[:i] {
				_ = h.iptables("-D", added)
			}
			_ = d.close()
			return fmt.Errorf("harness: slow %s: no netem (%v), and NFQUEUE fails: %w", h.Name, netemErr, err)
		}
	}
	h.setSlow(&slowLink{method: "nfqueue", d: d, delay: delay})
	h.c.t.Logf("harness: %s slowed with NFQUEUE (no netem in this kernel): delay %v, loss %v%%", h.Name, delay, lossPercent)
	return nil
}

// Unslow gives the host its normal link back.
func (h *Host) Unslow() {
	h.c.t.Helper()
	if err := h.stopSlow(); err != nil {
		h.c.t.Fatal(err)
	}
}

// SlowMethod tells how the host's link is slowed: "netem", "nfqueue", or
// "" when it is not.
func (h *Host) SlowMethod() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.slow == nil {
		return ""
	}
	return h.slow.method
}

func (h *Host) setSlow(s *slowLink) {
	h.mu.Lock()
	h.slow = s
	h.mu.Unlock()
}

// netem puts a netem qdisc on both ends of the host's veth.
func (h *Host) netem(delay time.Duration, lossPercent float64) error {
	args := []string{"qdisc", "replace", "dev", "eth0", "root", "netem", "limit", "100000",
		"delay", fmt.Sprintf("%dus", delay.Microseconds()), "loss", fmt.Sprintf("%g%%", lossPercent)}
	if err := run("", "tc", append([]string{"-n", h.NetNS}, args...)...); err != nil {
		return err
	}
	args[3] = h.Name // the bridge's port of this host
	if err := run("", "tc", append([]string{"-n", h.c.BridgeNetNS}, args...)...); err != nil {
		_ = run("", "tc", "-n", h.NetNS, "qdisc", "del", "dev", "eth0", "root")
		return err
	}
	return nil
}

// stopSlow undoes Slow, if any.
func (h *Host) stopSlow() error {
	h.mu.Lock()
	s := h.slow
	h.slow = nil
	h.mu.Unlock()
	if s == nil {
		return nil
	}
	var errs []error
	switch s.method {
	case "netem":
		errs = append(errs,
			run("", "tc", "-n", h.NetNS, "qdisc", "del", "dev", "eth0", "root"),
			run("", "tc", "-n", h.c.BridgeNetNS, "qdisc", "del", "dev", h.Name, "root"))
	case "nfqueue":
		for _, rule := range nfqueueRules {
			errs = append(errs, h.iptables("-D", rule))
		}
		s.d.drain(s.delay + 2*time.Second) // let held packets through
		errs = append(errs, s.d.close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("harness: unslow %s: %w", h.Name, err)
	}
	return nil
}

// iptables runs iptables op (-A, -D) rule in the host's namespace.
func (h *Host) iptables(op string, rule []string) error {
	// rule is "-t table CHAIN ..."; op goes before the chain.
	args := append([]string{"-w", "5", rule[0], rule[1], op}, rule[2:]...)
	return nsRun(h.NetNS, "", "iptables", args...)
}

// run runs a command, with stdin if not empty, and returns its combined
// output in the error.
func run(stdin, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// nsRun runs a command inside the network namespace ns.
func nsRun(ns, stdin, name string, args ...string) error {
	return run(stdin, "nsenter", append([]string{"--net=" + netnsPath(ns), "--", name}, args...)...)
}
