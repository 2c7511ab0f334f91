package allocator

import "net/netip"

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func netip0() netip.Addr               { return netip.Addr{} }
