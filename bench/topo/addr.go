// SPDX-License-Identifier: Apache-2.0

package topo

import (
	"fmt"
	"net/netip"
)

// docPrefixes are the only ranges a test network may use (RFC 5737, RFC 3849).
var docPrefixes = [...]netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// IsDocumentation reports whether addr lies in one of the documentation ranges
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 2001:db8::/32.
func IsDocumentation(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range docPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// checkPrefix accepts a prefix that lies wholly inside a documentation range.
// With allowDefault, the zero-length prefixes 0.0.0.0/0 and ::/0 are accepted
// too: a default route inside a namespace still reaches only the namespaces'
// own links.
func checkPrefix(p netip.Prefix, allowDefault bool) error {
	if !p.IsValid() {
		return fmt.Errorf("topo: invalid prefix %v", p)
	}
	if allowDefault && p.Bits() == 0 {
		return nil
	}
	for _, d := range docPrefixes {
		if p.Addr().Is4() == d.Addr().Is4() && p.Bits() >= d.Bits() && d.Contains(p.Addr()) {
			return nil
		}
	}
	return fmt.Errorf("topo: %v is outside the documentation ranges", p)
}

// checkAddr accepts a documentation address and, with allowLinkLocal, an IPv6
// link-local address (a next hop or neighbour on a namespace's own link).
func checkAddr(a netip.Addr, allowLinkLocal bool) error {
	if IsDocumentation(a) || (allowLinkLocal && a.Is6() && a.IsLinkLocalUnicast()) {
		return nil
	}
	return fmt.Errorf("topo: %v is outside the documentation ranges", a)
}
