package lb

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Table names (family ip).
const (
	lbTable      = "shoal-lb"
	ingressTable = "shoal-ingress"
)

// l4proto maps a Docker port protocol to its IP protocol number.
func l4proto(p string) (byte, error) {
	switch p {
	case "tcp", "":
		return unix.IPPROTO_TCP, nil
	case "udp":
		return unix.IPPROTO_UDP, nil
	case "sctp":
		return unix.IPPROTO_SCTP, nil
	}
	return 0, fmt.Errorf("unsupported protocol %q", p)
}

// portSet holds the protocols and ports of one table, to refuse a port given twice.
type portSet map[[2]uint16]bool

// add parses a port's protocol and refuses port 0 (published or target) and a port already
// added; what names the kind of port in errors.
func (ps portSet) add(what, protocol string, port, target uint16) (byte, error) {
	proto, err := l4proto(protocol)
	if err != nil {
		return 0, err
	}
	if port == 0 || target == 0 {
		return 0, fmt.Errorf("%s %s %d->%d: port 0", what, protocol, port, target)
	}
	key := [2]uint16{uint16(proto), port}
	if ps[key] {
		return 0, fmt.Errorf("duplicate %s %s/%d", what, protocol, port)
	}
	ps[key] = true
	return proto, nil
}

// ipv4 returns the 4 bytes of a, or an error when a is not IPv4.
func ipv4(a netip.Addr) ([]byte, error) {
	a = a.Unmap()
	if !a.Is4() {
		return nil, fmt.Errorf("not an IPv4 address: %v", a)
	}
	b := a.As4()
	return b[:], nil
}

// matchIP: ip saddr|daddr == a.
func matchIP(dst bool, a []byte) []expr.Any {
	off := uint32(12)
	if dst {
		off = 16
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a},
	}
}

// matchLoopbackSrc: ip saddr 127.0.0.0/8.
func matchLoopbackSrc() []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{127, 0, 0, 0}},
	}
}

// matchSrcNet: ip saddr net/mask.
func matchSrcNet(net, mask []byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: net},
	}
}

// matchProto: meta l4proto proto.
func matchProto(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

// matchPort: meta l4proto proto th dport port.
func matchPort(proto byte, port uint16) []expr.Any {
	return append(matchProto(proto),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(port)},
	)
}

// matchLocalDst: fib daddr type local.
func matchLocalDst() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
}

// matchOif: oifname name.
func matchOif(name string) []expr.Any { return matchIfname(expr.MetaKeyOIFNAME, name) }

// matchIfname: iifname or oifname (key) name.
func matchIfname(key expr.MetaKey, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}

// matchOifNot: oifname != name.
func matchOifNot(name string) []expr.Any {
	m := matchOif(name)
	m[1].(*expr.Cmp).Op = expr.CmpOpNeq
	return m
}

// matchIif: iifname name.
func matchIif(name string) []expr.Any { return matchIfname(expr.MetaKeyIIFNAME, name) }

// matchEstablished: ct state established,related.
func matchEstablished() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED),
			Xor:  binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}

// backendMap is a map "integer : ipv4_addr" from 0..n-1 to the backends,
// for numgen. It is a named map (not an anonymous one) so that nft shows
// its keys in host byte order, as numgen writes them.
func backendMap(t *nftables.Table, name string, backends [][]byte) (*nftables.Set, []nftables.SetElement) {
	s := &nftables.Set{
		Table:        t,
		Name:         name,
		IsMap:        true,
		KeyType:      nftables.TypeInteger,
		DataType:     nftables.TypeIPAddr,
		KeyByteOrder: binaryutil.NativeEndian,
	}
	elems := make([]nftables.SetElement, len(backends))
	for i, b := range backends {
		elems[i] = nftables.SetElement{Key: binaryutil.NativeEndian.PutUint32(uint32(i)), Val: b}
	}
	return s, elems
}

// dnatNumgen: dnat to numgen inc mod n map @set [: port]. port 0 keeps the
// destination port.
func dnatNumgen(set *nftables.Set, n int, port uint16) []expr.Any {
	e := []expr.Any{
		&expr.Numgen{Register: 1, Modulus: uint32(n), Type: unix.NFT_NG_INCREMENTAL},
		&expr.Lookup{SourceRegister: 1, DestRegister: 1, IsDestRegSet: true, SetName: set.Name, SetID: set.ID},
	}
	nat := &expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}
	if port != 0 {
		e = append(e, &expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(port)})
		nat.RegProtoMin = 2
		nat.Specified = true
	}
	return append(e, nat)
}

// dnatTo: dnat to addr:port.
func dnatTo(addr []byte, port uint16) []expr.Any {
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: addr},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

func accept() expr.Any { return &expr.Verdict{Kind: expr.VerdictAccept} }

func masquerade() expr.Any { return &expr.Masq{} }

func rejectTCPReset() expr.Any { return &expr.Reject{Type: unix.NFT_REJECT_TCP_RST} }

func rejectPortUnreachable() expr.Any {
	return &expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: 3} // ICMP_PORT_UNREACH
}

// rule concatenates expression lists into one rule's expressions.
func rule(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
