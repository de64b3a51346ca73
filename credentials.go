package chromaauth

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// reasonJWTUnavailable: a JWT came while the provider's keys have not
// been fetched yet (answered 503 with Retry-After).
const reasonJWTUnavailable = "jwt_unavailable"

var bodyJWTUnavailable = []byte(`{"error":"ServiceUnavailable","message":"The token signing keys are not available yet; retry shortly"}`)

// provisionJWT builds and starts the verifier. An unreadable key file
// stops the config; a provider that is down does not (its tokens get 503
// until its keys arrive).
func (h *ChromaAuth) provisionJWT() error {
	if h.JWT == nil {
		return nil
	}
	reload := time.Duration(h.ReloadInterval)
	cfg, err := h.JWT.VerifierConfig(reload)
	if err != nil {
		return fmt.Errorf("chroma_auth: %w", err)
	}
	log := h.logger.Named("jwt")
	if u := cfg.KeysURL(); strings.HasPrefix(u, "http://") {
		log.Warn("token keys are fetched over plain HTTP: whoever can alter that traffic can sign tokens the gateway accepts; use https", zap.String("url", jwtauth.RedactURL(u)))
	}
	v, err := jwtauth.New(cfg, jwtauth.Hooks{
		KeysLoaded: func(source string, n int) {
			log.Info("token keys loaded", zap.String("source", source), zap.Int("keys", n))
		},
		KeysFailed: func(source string, err error) {
			log.Error("token keys not loaded; keeping the last good ones", zap.String("source", source), zap.Error(err))
		},
	})
	if err != nil {
		return fmt.Errorf("chroma_auth: %w", err)
	}
	if err := v.Start(); err != nil {
		v.Stop()
		return fmt.Errorf("chroma_auth: %w", err)
	}
	h.jwt = v
	return nil
}

func (h *ChromaAuth) cleanupJWT() {
	if h.jwt != nil {
		h.jwt.Stop()
	}
}

// acceptsTokens reports whether bearer tokens are read at all: static
// tokens or JWTs are configured.
func (h *ChromaAuth) acceptsTokens(creds *providers.Credentials) bool {
	return creds.Token() || h.jwt != nil
}

// maxTokenLen bounds a token credential: JWTs may be longer than static
// tokens.
func (h *ChromaAuth) maxTokenLen() int {
	if h.jwt != nil {
		return jwtauth.MaxTokenLen
	}
	return providers.MaxTokenLen
}

// verifyJWT checks a JWT-shaped token. handled is false for a token that
// is no JWT after all (it goes on to the static tokens). A token verified
// before passes from the cache. The failure limiter is authenticate's
// concern: a new token from a blocked address never gets here.
func (h *ChromaAuth) verifyJWT(tok string) (id *providers.Identity, reason string, retry time.Duration, wrong, handled bool) {
	if !jwtauth.LooksLikeJWT(tok) {
		return nil, "", 0, false, false
	}
	if id := h.jwt.Cached(tok); id != nil {
		return id, "", 0, false, true
	}
	id, err := h.jwt.Verify(tok)
	if err == nil {
		return id, "", 0, false, true
	}
	var e *jwtauth.Error
	switch {
	case errors.Is(err, jwtauth.ErrMalformed):
		return nil, "", 0, false, false
	case errors.As(err, &e) && errors.Is(err, jwtauth.ErrKeysUnavailable):
		return nil, reasonJWTUnavailable, e.RetryAfter, false, true
	}
	return nil, jwtReason(err), 0, true, true
}

// reasonJWTOutsideUser: a verified JWT whose tenant or databases have
// nothing in common with what the files give its user (answered 401).
const reasonJWTOutsideUser = "jwt_outside_user"

// narrowJWT is a verified JWT's identity narrowed to what the files of the
// request's credential set give its user (see providers.Narrow): never
// more than its user has. reason is set, and the identity nil, when the
// token names a tenant or databases its user has none of.
func (h *ChromaAuth) narrowJWT(creds *providers.Credentials, id *providers.Identity) (*providers.Identity, string) {
	n, err := creds.NarrowToUser(id)
	if err != nil {
		h.logger.Debug("JWT refused: outside its user's scope", zap.Error(err))
		return nil, reasonJWTOutsideUser
	}
	return n, ""
}

// Reasons of a client certificate refused.
const (
	// reasonCertUnclaimed: a verified certificate no user's certs match.
	reasonCertUnclaimed = "cert_unclaimed"
	// reasonCertAmbiguous: a verified certificate two users' certs match.
	reasonCertAmbiguous = "cert_ambiguous"
	// reasonCertRequired: client_cert required, and no verified certificate.
	reasonCertRequired = "cert_required"
)

// verifiedLeaf is the client certificate Caddy verified against its trust
// pool, nil when there is none: no TLS, no certificate, or one presented
// but not verified (client_auth mode request or require).
func verifiedLeaf(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

// authenticateCert finds the identity of the request's verified client
// certificate. done is false when the request has none and may
// authenticate otherwise; else the identity or the reason is the answer.
func (h *ChromaAuth) authenticateCert(r *http.Request, creds *providers.Credentials) (id *providers.Identity, reason string, done bool) {
	leaf := verifiedLeaf(r)
	if leaf == nil {
		if h.ClientCert.Required {
			return nil, reasonCertRequired, true
		}
		return nil, "", false
	}
	if r.Header.Get(headerAuthorization) != "" || r.Header.Get(headerChromaToken) != "" {
		return nil, reasonAmbiguous, true // two credentials: which one is meant?
	}
	id, err := creds.CertIdentity(leaf)
	if err == nil {
		return id, "", true
	}
	if h.limiter != nil {
		h.limiter.Fail(authz.ClientKey(clientIP(r)), h.limiter.Clock(), nil)
	}
	if errors.Is(err, providers.ErrCertAmbiguous) {
		return nil, reasonCertAmbiguous, true
	}
	return nil, reasonCertUnclaimed, true
}

// credential is what a request presents, before it is checked.
type credential struct {
	basic      bool
	user, pass string
	token      string
}

// extract finds the one credential of a configured kind in r (see
// authz.ExtractCredential, where the parsing lives and is fuzzed).
func (h *ChromaAuth) extract(r *http.Request, creds *providers.Credentials) (credential, string) {
	c, reason := authz.ExtractCredential(r.Header, h.tokenHeader, creds.Basic(), h.acceptsTokens(creds), h.maxTokenLen())
	return credential{basic: c.Basic, user: c.User, pass: c.Pass, token: c.Token}, reason
}

// parseBasic decodes the text after "Basic " (see authz.ParseBasic).
func parseBasic(b64 string) (user, pass string, ok bool) { return authz.ParseBasic(b64) }
