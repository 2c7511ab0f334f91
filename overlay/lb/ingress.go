package lb

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// IngressPort is a port published in ingress mode and the addresses of the
// service's running tasks on the ingress network.
type IngressPort struct {
	Protocol                  string // "tcp", "udp", "sctp"
	PublishedPort, TargetPort uint16
	Backends                  []netip.Addr
}

// ApplyIngressSandbox makes the table ip shoal-ingress of the ingress
// sandbox's netns (nsPath) balance each published port over its backends:
//
//	chain prerouting { type nat hook prerouting priority dstnat;
//	    meta l4proto P th dport Published dnat to numgen inc mod N map @ingress_<i> : Target }
//	chain postrouting { type nat hook postrouting priority srcnat;
//	    oifname outIf masquerade }
//
// The masquerade makes the backends reply to the sandbox (outIf is its
// interface on the ingress network), which un-NATs and routes the reply
// back to the node. A port without backends is left alone (the sandbox
// itself answers it: tcp reset / icmp port unreachable). It also sets
// net.ipv4.ip_forward=1 in the sandbox's netns. No port removes the table. Conntrack entries
// whose backend or target port is gone are deleted.
func ApplyIngressSandbox(nsPath string, ports []IngressPort, outIf string) error {
	if len(ports) == 0 {
		return replaceTable(nsPath, ingressTable, nil)
	}
	if outIf == "" {
		return fmt.Errorf("ingress sandbox: no outgoing interface")
	}
	type entry struct {
		proto    byte
		port     uint16
		target   uint16
		backends [][]byte
	}
	var entries []entry
	seen := portSet{}
	for _, p := range ports {
		proto, err := seen.add("ingress port", p.Protocol, p.PublishedPort, p.TargetPort)
		if err != nil {
			return err
		}
		e := entry{proto: proto, port: p.PublishedPort, target: p.TargetPort}
		for _, a := range p.Backends {
			b, err := ipv4(a)
			if err != nil {
				return fmt.Errorf("backend of %s/%d: %w", p.Protocol, p.PublishedPort, err)
			}
			e.backends = append(e.backends, b)
		}
		entries = append(entries, e)
	}
	if err := inNetNS(nsPath, func() error { return writeSysctl("net/ipv4/ip_forward", "1") }); err != nil {
		return err
	}
	err := replaceTable(nsPath, ingressTable, func(b *builder) error {
		pre := b.chain("prerouting", nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest)
		post := b.chain("postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
		for i, e := range entries {
			if len(e.backends) == 0 {
				continue
			}
			set, elems := backendMap(b.t, fmt.Sprintf("ingress_%d", i), e.backends)
			b.set(set, elems)
			b.rule(pre, rule(matchPort(e.proto, e.port), dnatNumgen(set, len(e.backends), e.target)))
		}
		b.rule(post, rule(matchOif(outIf), []expr.Any{masquerade()}))
		return nil
	})
	if err != nil {
		return err
	}
	return deleteFlows(nsPath, newIngressStale(ports))
}

// HostPort is a published port on the node, forwarded to the ingress
// sandbox's address Dest on the gateway bridge.
type HostPort struct {
	Protocol string // "tcp", "udp", "sctp"
	Port     uint16
	Dest     netip.Addr
}

// ApplyIngressHost makes the table ip shoal-ingress of the caller's netns
// (the node's) forward each published port to its Dest, same port:
//
//	chain prerouting { type nat hook prerouting priority dstnat;
//	    fib daddr type local meta l4proto P th dport Port dnat to Dest:Port }
//	chain output { type nat hook output priority dstnat; (same rules) }
//	chain postrouting { type nat hook postrouting priority srcnat;
//	    ip saddr 127.0.0.0/8 ip daddr Dest masquerade }
//	chain forward { type filter hook forward priority filter;
//	    ip daddr Dest meta l4proto P th dport Port accept
//	    ip saddr Dest ct state established,related accept }
//
// The output chain serves local clients, 127.0.0.1 included when
// EnableRouteLocalnet was called for the gateway bridge. The forward chain
// only helps against a drop policy in chains of ours: an accept here does
// not override a drop in another table (another firewall's forward chain
// with policy drop still drops this traffic). It sets net.ipv4.ip_forward=1
// in the caller's netns when there are ports. No port removes the table.
func ApplyIngressHost(ports []HostPort) error {
	if len(ports) == 0 {
		return replaceTable("", ingressTable, nil)
	}
	type entry struct {
		proto byte
		port  uint16
		dest  []byte
	}
	var entries []entry
	var dests [][]byte
	seen := portSet{}
	for _, p := range ports {
		proto, err := seen.add("host port", p.Protocol, p.Port, p.Port)
		if err != nil {
			return err
		}
		d, err := ipv4(p.Dest)
		if err != nil {
			return fmt.Errorf("host port %s/%d: %w", p.Protocol, p.Port, err)
		}
		entries = append(entries, entry{proto, p.Port, d})
		if !slices.ContainsFunc(dests, func(x []byte) bool { return slices.Equal(x, d) }) {
			dests = append(dests, d)
		}
	}
	if err := writeSysctl("net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	return replaceTable("", ingressTable, func(b *builder) error {
		pre := b.chain("prerouting", nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest)
		out := b.chain("output", nftables.ChainTypeNAT, nftables.ChainHookOutput, nftables.ChainPriorityNATDest)
		post := b.chain("postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
		fwd := b.chain("forward", nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter)
		for _, e := range entries {
			b.rule(pre, rule(matchLocalDst(), matchPort(e.proto, e.port), dnatTo(e.dest, e.port)))
			b.rule(out, rule(matchLocalDst(), matchPort(e.proto, e.port), dnatTo(e.dest, e.port)))
			b.rule(fwd, rule(matchIP(true, e.dest), matchPort(e.proto, e.port), []expr.Any{accept()}))
		}
		for _, d := range dests {
			b.rule(post, rule(matchLoopbackSrc(), matchIP(true, d), []expr.Any{masquerade()}))
			b.rule(fwd, rule(matchIP(false, d), matchEstablished(), []expr.Any{accept()}))
		}
		return nil
	})
}
