package chromaauth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

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
