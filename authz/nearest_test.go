package authz

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func trustedIn(prefixes ...string) func(netip.Addr) bool {
	var ps []netip.Prefix
	for _, p := range prefixes {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	return func(a netip.Addr) bool {
		for _, p := range ps {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
}

func TestNearestUntrusted(t *testing.T) {
	proxies := trustedIn("10.0.0.0/8", "2001:db8:ff::/48")
	for _, c := range []struct {
		name    string
		headers [][]string
		want    string
	}{
		{"no header: the peer", nil, "10.0.0.1"},
		{"one hop", [][]string{{"203.0.113.9"}}, "203.0.113.9"},
		{"the left is the client's to write", [][]string{{"198.51.100.1, 203.0.113.9"}}, "203.0.113.9"},
		{"trusted hops skipped", [][]string{{"198.51.100.1, 203.0.113.9, 10.1.1.1, 10.2.2.2"}}, "203.0.113.9"},
		{"values of one header joined", [][]string{{"198.51.100.1", "203.0.113.9", "10.1.1.1"}}, "203.0.113.9"},
		{"garbage skipped", [][]string{{"203.0.113.9, nonsense, ,"}}, "203.0.113.9"},
		{"ports and zones", [][]string{{"198.51.100.1:4,[2001:db8::7%eth0]:443"}}, "2001:db8::7"},
		{"all trusted: the peer", [][]string{{"10.9.9.9, 2001:db8:ff::1"}}, "10.0.0.1"},
		{"the first header first", [][]string{{"10.3.3.3"}, {"203.0.113.9"}}, "203.0.113.9"},
		{"the first header wins", [][]string{{"192.0.2.5"}, {"203.0.113.9"}}, "192.0.2.5"},
	} {
		assert.Equal(t, c.want, NearestUntrusted("10.0.0.1", c.headers, proxies), c.name)
	}
}

// TestNearestUntrustedIgnoresTheLeft: whatever a client writes left of
// the address its balancer appends, the answer is that address.
func TestNearestUntrustedIgnoresTheLeft(t *testing.T) {
	proxies := trustedIn("10.0.0.0/8")
	for _, left := range []string{"", "1.2.3.4", "1.2.3.4, 5.6.7.8", "10.0.0.5", "x, 2001:db8::1", strings.Repeat("9.9.9.9,", 500)} {
		xff := "203.0.113.9, 10.0.0.2"
		if left != "" {
			xff = left + ", " + xff
		}
		assert.Equal(t, "203.0.113.9", NearestUntrusted("10.0.0.1", [][]string{{xff}}, proxies), left)
	}
}

// TestNearestUntrustedBoundsTheWalk: a long run of trusted addresses (only
// a client inside the trusted ranges can write one right of its own) is
// asked about at most MaxTrustedHops times.
func TestNearestUntrustedBoundsTheWalk(t *testing.T) {
	asked := 0
	trusted := func(netip.Addr) bool { asked++; return true }
	got := NearestUntrusted("10.0.0.1", [][]string{{"203.0.113.9," + strings.Repeat("10.0.0.7,", 1000)}}, trusted)
	assert.Equal(t, "10.0.0.7", got)
	assert.Equal(t, MaxTrustedHops, asked)
}
