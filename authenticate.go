package chromaauth

import (
	"errors"
	"net/http"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/limiter"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// authenticate checks the request's credential. It returns the identity,
// or nil with the reason and, when the client is rate-limited, how long it
// should wait.
//
// With the failure limit on, a credential the client's address has used
// with success before is checked as usual, even while the address is
// blocked; any other credential first takes a try from the address's
// bucket, and while none is left it is answered 429 unchecked, right or
// wrong (see limiter.Limiter). client is the address the limiter counted
// the request against ("" when it had no need of it): the request's audit
// line names the same address without working it out again.
func (h *ChromaAuth) authenticate(r *http.Request, creds *providers.Credentials) (id *providers.Identity, reason string, retry time.Duration, client string) {
	if h.ClientCert != nil {
		if id, reason, done := h.authenticateCert(r, creds); done {
			return id, reason, 0, ""
		}
	}
	c, reason := h.extract(r, creds)
	if reason != "" {
		if reason != reasonMissing && h.limiter != nil {
			h.limiter.Fail(authz.ClientKey(clientIP(r)), h.limiter.Clock(), nil)
		}
		return nil, reason, 0, ""
	}
	if h.limiter == nil {
		id, reason, retry, _ := h.checkCredential(r, creds, c)
		return id, reason, retry, ""
	}
	client = clientIP(r)
	addr, d := authz.ClientKey(client), h.limiter.Digest(limiter.Credential{Basic: c.basic, User: c.user, Pass: c.pass, Token: c.token})
	if h.limiter.Knows(addr, d) {
		id, reason, retry, wrong := h.checkCredential(r, creds, c)
		if wrong {
			h.limiter.Fail(addr, h.limiter.Clock(), &d)
		}
		return id, reason, retry, client
	}
	if wait, ok := h.limiter.Reserve(addr, h.limiter.Clock()); !ok {
		return nil, reasonRateLimited, wait, client
	}
	id, reason, retry, wrong := h.checkCredential(r, creds, c)
	switch {
	case id != nil:
		h.limiter.Succeeded(addr, d)
	case !wrong:
		h.limiter.Release(addr)
	}
	return id, reason, retry, client
}

// checkCredential verifies c against creds: a token, or Basic credentials (from the
// cache, else with bcrypt). wrong is true when c was checked and is not
// valid, as opposed to a check that could not run.
//
// A token shaped like a JWT, when jwt is configured, is checked as a JWT
// only (a verified JWT is never also a static token); retry is set when
// the identity provider's keys are not there yet (503).
func (h *ChromaAuth) checkCredential(r *http.Request, creds *providers.Credentials, c credential) (id *providers.Identity, reason string, retry time.Duration, wrong bool) {
	if !c.basic {
		if h.jwt != nil {
			if id, reason, retry, wrong, handled := h.verifyJWT(c.token); handled {
				if id != nil {
					if id, reason = h.narrowJWT(creds, id); id == nil {
						return nil, reason, 0, true
					}
				}
				return id, reason, retry, wrong
			}
		}
		id, err := h.auth.CheckToken(creds, c.token)
		switch {
		case err == nil:
			return id, "", 0, false
		case errors.Is(err, providers.ErrKeyExpired):
			return nil, reasonKeyExpired, 0, true
		}
		return nil, reasonInvalid, 0, true
	}
	id, err := h.auth.CheckBasic(r.Context(), creds, c.user, c.pass)
	switch {
	case err == nil:
		return id, "", 0, false
	case errors.Is(err, providers.ErrBusy):
		return nil, reasonBusy, 0, false
	case errors.Is(err, providers.ErrBadCredentials):
		return nil, reasonInvalid, 0, true
	}
	return nil, reasonInvalid, 0, false // the client went away
}
