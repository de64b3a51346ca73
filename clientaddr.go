package chromaauth

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// clientIPVar memoizes the client address of a request in Caddy's
// request variables, worked out once however often it is asked for.
const clientIPVar = "chroma_auth.client_ip"

// clientIP is the address failures are counted against and audit lines
// name: the nearest address the server does not trust, as Caddy's
// trusted_proxies_strict finds it, whatever the server's own setting.
//
// Caddy's client_ip already is that address when the connection does not
// come from a trusted proxy (it is then the connection's address) or when
// the server is strict. Otherwise (a trusted proxy, the default
// non-strict mode) Caddy takes the leftmost X-Forwarded-For address, which
// the client writes: the gateway walks the header from the right instead.
//
// The server keeps its trusted ranges to itself; the only public way to
// ask whether it trusts an address is to let it prepare a request from
// that address (caddyhttp.PrepareRequest) and read its trusted_proxy
// variable. That is what trustedBy does, once per address walked over.
func clientIP(r *http.Request) string {
	ctx := r.Context()
	vars, _ := ctx.Value(caddyhttp.VarsCtxKey).(map[string]any)
	if ip, ok := vars[clientIPVar].(string); ok {
		return ip
	}
	ip, _ := vars[caddyhttp.ClientIPVarKey].(string)
	viaProxy, _ := vars[caddyhttp.TrustedProxyVarKey].(bool)
	if ip == "" {
		return remoteHost(r)
	}
	if !viaProxy {
		return ip
	}
	srv, _ := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil || srv.TrustedProxiesStrict > 0 {
		return ip
	}
	headers := make([][]string, 0, len(srv.ClientIPHeaders))
	for _, name := range srv.ClientIPHeaders {
		headers = append(headers, r.Header.Values(name))
	}
	ip = authz.NearestUntrusted(peerIP(r), headers, trustedBy(srv))
	caddyhttp.SetVar(ctx, clientIPVar, ip)
	return ip
}

// trustedBy reports whether srv counts an address among its trusted
// proxies, asking the server itself.
func trustedBy(srv *caddyhttp.Server) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		probe := &http.Request{
			Method:     http.MethodGet,
			URL:        &url.URL{Path: "/"},
			Header:     http.Header{},
			RemoteAddr: netip.AddrPortFrom(a, 0).String(),
		}
		probe = caddyhttp.PrepareRequest(probe, caddy.NewEmptyReplacer(), nil, srv)
		trusted, _ := caddyhttp.GetVar(probe.Context(), caddyhttp.TrustedProxyVarKey).(bool)
		return trusted
	}
}

// peerIP is the connection's own address as Caddy writes it: "@" for a
// Unix socket.
func peerIP(r *http.Request) string {
	if r.RemoteAddr == "@" {
		return "@"
	}
	return remoteHost(r)
}

// remoteHost is the host part of the connection's address.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
