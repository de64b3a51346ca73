package authz

import (
	"net"
	"net/netip"
	"strings"
)

// MaxTrustedHops bounds how many trusted addresses NearestUntrusted steps
// over: past that many, the last one stands for the client. Only a client
// inside the trusted ranges can write that many trusted addresses to the
// right of its own, and it then shares one key with its proxy.
const MaxTrustedHops = 32

// NearestUntrusted is the address a request came from as far as the
// server's trusted proxies vouch for it: what Caddy's
// trusted_proxies_strict takes. The client-address header values (in the
// order of the server's client_ip_headers, each header's values joined by
// commas) are walked from the right, skipping what does not parse and the
// addresses trusted reports as proxies; the first other address is the
// answer. When there is none, the answer is peer, the connection's own
// address.
//
// Why from the right: each proxy appends the address it got the request
// from, so the right end is written by proxies the server trusts and the
// left end by whoever sent the request first, which may be anyone. Caddy's
// default (non-strict) client_ip takes the leftmost address: a client that
// changes it on each try looks like a new client every time.
func NearestUntrusted(peer string, headers [][]string, trusted func(netip.Addr) bool) string {
	last, hops := peer, 0
	for _, values := range headers {
		parts := strings.Split(strings.Join(values, ","), ",")
		for i := len(parts) - 1; i >= 0; i-- {
			a, ok := parseHop(parts[i])
			if !ok {
				continue
			}
			if !trusted(a) {
				return a.String()
			}
			last = a.String()
			if hops++; hops >= MaxTrustedHops {
				return last
			}
		}
	}
	return peer
}

// parseHop reads one header entry exactly as Caddy does (so that the
// answer is the client_ip of a strict server): an address, perhaps with a
// port, perhaps with an IPv6 zone.
func parseHop(part string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(part)
	if err != nil {
		host = part
	}
	host, _, _ = strings.Cut(strings.TrimSpace(host), "%")
	a, err := netip.ParseAddr(host)
	return a, err == nil
}
