package authz

import "testing"

// FuzzClientKey: whatever the client address (it may come from a
// forwarded header via trusted_proxies), the key is the zero address, an
// IPv4 address or an IPv6 /64 with no zone, and the same input gives the
// same key.
func FuzzClientKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "fe80::1%eth0", "", "x", "1.2.3.4.5", "::", "[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := ClientKey(s)
		if k != ClientKey(s) {
			t.Fatalf("%q: not deterministic", s)
		}
		switch {
		case !k.IsValid():
		case k.Is4():
		case k.Is6():
			b := k.As16()
			for _, x := range b[8:] {
				if x != 0 {
					t.Fatalf("%q → %v: not a /64", s, k)
				}
			}
			if k.Zone() != "" || k.Is4In6() {
				t.Fatalf("%q → %v: a zone or a mapped IPv4 address", s, k)
			}
		}
	})
}
