package authz

import "net/netip"

// ClientKey is the address failures are counted against: an IPv4 address
// as is (an IPv4-mapped IPv6 address as its IPv4 address), an IPv6 address
// by its /64, which one host or site usually holds whole. What does not
// parse (a Unix socket peer) shares the zero key.
func ClientKey(ip string) netip.Addr {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64) // drops any zone, too
		return p.Addr()
	}
	return a
}
