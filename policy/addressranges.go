package main

import (
	"net/netip"
	"strings"
)

// Address ranges are judged by the address space they cover together, not by
// their spelling: 0.0.0.0/1 and 128.0.0.0/1 admit everyone as surely as
// 0.0.0.0/0 does, and so does ::ffff:0:0/96 for every IPv4 address.

// ipv4Mapped is the IPv6 block that carries every IPv4 address (::ffff:a.b.c.d).
var ipv4Mapped = netip.MustParsePrefix("::ffff:0:0/96")

// parseRange reads one CIDR, canonical (host bits cleared); IPv4-mapped IPv6
// ranges are read as the IPv4 ranges they are.
func parseRange(cidr string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil {
		return netip.Prefix{}, false
	}
	p = p.Masked()
	if p.Addr().Is4In6() && p.Bits() >= ipv4Mapped.Bits() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-ipv4Mapped.Bits())
	}
	return p, true
}

// coversEveryAddress reports whether the ranges together cover all of IPv4 or all
// of IPv6 (where covering ::ffff:0:0/96 counts as covering IPv4).
func coversEveryAddress(ranges []netip.Prefix) bool {
	return covers(ranges, netip.MustParsePrefix("0.0.0.0/0")) || covers(ranges, netip.MustParsePrefix("::/0"))
}

// covers reports whether the union of ranges contains every address of target:
// one range contains it, or both halves of it are covered. Only halves that some
// range overlaps are split further, so the work stays proportional to the ranges.
func covers(ranges []netip.Prefix, target netip.Prefix) bool {
	overlapping := false
	for _, p := range ranges {
		if p.Addr().Is4() != target.Addr().Is4() {
			continue
		}
		if p.Bits() <= target.Bits() && p.Contains(target.Addr()) {
			return true
		}
		if p.Overlaps(target) {
			overlapping = true
		}
	}
	if !overlapping || target.Bits() == target.Addr().BitLen() {
		return false
	}
	low, high := halves(target)
	return covers(ranges, low) && covers(ranges, high)
}

// halves splits a prefix into its two sub-prefixes one bit longer.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	bits := p.Bits() + 1
	low := netip.PrefixFrom(p.Addr(), bits)
	b := p.Addr().AsSlice()
	bit := p.Bits()
	b[bit/8] |= 0x80 >> (bit % 8)
	high, _ := netip.AddrFromSlice(b)
	return low, netip.PrefixFrom(high, bits)
}

// everyoneRanges names what admits everyone: the one range that does on its own,
// or else all of them, since together they do.
func everyoneRanges(ranges []netip.Prefix) []string {
	var names []string
	for _, p := range ranges {
		if coversEveryAddress([]netip.Prefix{p}) {
			names = append(names, p.String())
		}
	}
	if len(names) > 0 {
		return names
	}
	for _, p := range ranges {
		names = append(names, p.String())
	}
	return names
}
