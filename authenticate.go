package chromaauth

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// authenticate checks the request's credential. It returns the identity,
// or nil with the reason and, when the client is rate-limited, how long it
// should wait.
func (h *ChromaAuth) authenticate(r *http.Request, creds *providers.Credentials) (*providers.Identity, string, time.Duration) {
	c, reason := h.extract(r, creds)
	if reason != "" {
		if reason != reasonMissing {
			h.limiter.fail(clientIP(r), time.Now())
		}
		return nil, reason, 0
	}
	// Cheap checks first: a token, or Basic credentials verified before.
	// They pass even for a rate-limited address, so valid clients behind
	// the same address as an attacker keep working.
	var tokenErr error
	if !c.basic {
		var id *providers.Identity
		if id, tokenErr = h.auth.CheckToken(creds, c.token); tokenErr == nil {
			return id, "", 0
		}
	} else if id, ok := h.auth.CachedBasic(creds, c.user, c.pass); ok {
		return id, "", 0
	}
	client := clientIP(r)
	if wait, blocked := h.limiter.blocked(client, time.Now()); blocked {
		return nil, reasonRateLimited, wait
	}
	if !c.basic {
		h.limiter.fail(client, time.Now())
		if errors.Is(tokenErr, providers.ErrKeyExpired) {
			return nil, reasonKeyExpired, 0
		}
		return nil, reasonInvalid, 0
	}
	id, err := h.auth.CheckBasic(r.Context(), creds, c.user, c.pass)
	switch {
	case err == nil:
		return id, "", 0
	case errors.Is(err, providers.ErrBusy):
		return nil, reasonBusy, 0
	case errors.Is(err, providers.ErrBadCredentials):
		h.limiter.fail(client, time.Now())
	}
	return nil, reasonInvalid, 0
}

// clientIP is the address failures are counted against: Caddy's client IP
// (which honours trusted_proxies), else the connection's address.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
