package lb

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// gatewayTable is the node's table for the gateway bridge: egress and host-mode ports.
const gatewayTable = "shoal-gateway"

// GatewayPort is a port published in host mode: the node's Port, to a task container's address
// on the gateway bridge and its TargetPort.
type GatewayPort struct {
	Protocol   string // "tcp", "udp", "sctp"
	Port       uint16
	Dest       netip.Addr
	TargetPort uint16
}

// ApplyGateway makes the table ip shoal-gateway of the caller's netns (the node's) give the task
// containers on the gateway bridge (subnet, on bridge) their way out, and forward the ports they
// publish in host mode, as Docker's docker_gwbridge and its host-mode ports do:
//
//	chain postrouting { type nat hook postrouting priority srcnat;
//	    ip saddr subnet oifname != bridge masquerade
//	    ip saddr 127.0.0.0/8 oifname bridge masquerade }
//	chain prerouting { type nat hook prerouting priority dstnat;
//	    fib daddr type local meta l4proto P th dport Port dnat to Dest:TargetPort }
//	chain output { type nat hook output priority dstnat; (same rules) }
//	chain forward { type filter hook forward priority filter;
//	    iifname bridge accept
//	    oifname bridge ct state established,related accept
//	    ip daddr Dest meta l4proto P th dport TargetPort accept }
//
// It sets net.ipv4.ip_forward=1 in the caller's netns. As for ApplyIngressHost, an accept here
// does not override a drop in another table.
func ApplyGateway(bridge string, subnet netip.Prefix, ports []GatewayPort) error {
	net4, err := ipv4(subnet.Masked().Addr())
	if err != nil {
		return fmt.Errorf("gateway subnet: %w", err)
	}
	mask := prefixMask(subnet.Bits())
	type entry struct {
		proto        byte
		port, target uint16
		dest         []byte
	}
	var entries []entry
	seen := portSet{}
	for _, p := range ports {
		proto, err := seen.add("host-mode port", p.Protocol, p.Port, p.TargetPort)
		if err != nil {
			return err
		}
		d, err := ipv4(p.Dest)
		if err != nil {
			return fmt.Errorf("host-mode port %s/%d: %w", p.Protocol, p.Port, err)
		}
		entries = append(entries, entry{proto, p.Port, p.TargetPort, d})
	}
	if err := writeSysctl("net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	return replaceTable("", gatewayTable, func(b *builder) error {
		post := b.chain("postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
		pre := b.chain("prerouting", nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest)
		out := b.chain("output", nftables.ChainTypeNAT, nftables.ChainHookOutput, nftables.ChainPriorityNATDest)
		fwd := b.chain("forward", nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter)
		b.rule(post, rule(matchSrcNet(net4, mask), matchOifNot(bridge), []expr.Any{masquerade()}))
		b.rule(post, rule(matchLoopbackSrc(), matchOif(bridge), []expr.Any{masquerade()}))
		b.rule(fwd, rule(matchIif(bridge), []expr.Any{accept()}))
		b.rule(fwd, rule(matchOif(bridge), matchEstablished(), []expr.Any{accept()}))
		for _, e := range entries {
			b.rule(pre, rule(matchLocalDst(), matchPort(e.proto, e.port), dnatTo(e.dest, e.target)))
			b.rule(out, rule(matchLocalDst(), matchPort(e.proto, e.port), dnatTo(e.dest, e.target)))
			b.rule(fwd, rule(matchIP(true, e.dest), matchPort(e.proto, e.target), []expr.Any{accept()}))
		}
		return nil
	})
}

// RemoveGateway deletes the node's gateway table.
func RemoveGateway() error { return replaceTable("", gatewayTable, nil) }

// prefixMask is the 4-byte netmask of a prefix length.
func prefixMask(bits int) []byte {
	m := make([]byte, 4)
	for i := 0; i < 4; i++ {
		switch {
		case bits >= 8:
			m[i] = 255
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return m
}
