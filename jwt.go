package chromaauth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// JWTConfig accepts JSON Web Tokens from an identity provider (OpenID
// Connect discovery or a JWKS URL), signed by static public keys, or
// self-issued with an HMAC secret. Tokens come in the same header as static
// tokens (`Authorization: Bearer` or `X-Chroma-Token`); a token shaped like
// a JWT is checked as one. Its claims give the identity: user, tenant,
// databases, role and collections, each from a configurable claim path.
type JWTConfig struct {
	// The issuer, matched against `iss`. With no jwks_url, key_file or
	// secret, the keys come by OpenID Connect discovery from
	// `<issuer>/.well-known/openid-configuration`.
	Issuer string `json:"issuer,omitempty"`

	// A JSON Web Key Set URL to take the keys from instead of discovery.
	JWKSURL string `json:"jwks_url,omitempty"`

	// PEM files of public keys (RSA, EC P-256/384/521, Ed25519; PKIX
	// `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY` or certificates). Reloaded
	// when they change.
	KeyFiles []string `json:"key_files,omitempty"`

	// An HMAC secret (HS256/384/512, at least 32 bytes; 64 for HS512) for
	// self-issued tokens. Placeholders such as `{env.CHROMA_JWT_SECRET}`
	// are replaced at load.
	Secret string `json:"secret,omitempty"`

	// A file holding the HMAC secret (white space around it trimmed),
	// reloaded when it changes.
	SecretFile string `json:"secret_file,omitempty"`

	// Audiences: a token's `aud` must hold one of them. Required with
	// issuer or jwks_url.
	Audience []string `json:"audience,omitempty"`

	// Allowed signature algorithms. Default: every one the configured keys
	// can verify (HS* with a secret; RS*, PS*, ES*, EdDSA with public
	// keys). `none` is never accepted.
	Algorithms []string `json:"algorithms,omitempty"`

	// Clock skew allowed on exp, nbf and iat (at most 5m). Default 0.
	Leeway caddy.Duration `json:"leeway,omitempty"`

	// Claim paths, dotted (`realm_access.roles`, `chroma.tenant`); a claim
	// whose own name holds dots (`https://example.com/tenant`) is found
	// whole. user_claim defaults to `sub`. A tenant or databases claim
	// that is mapped but missing refuses the token, as does a mapped claim
	// of the wrong type; an unmapped one leaves that part unscoped (every
	// tenant, every database); a missing collections claim gives every
	// collection of the token's databases.
	UserClaim        string `json:"user_claim,omitempty"`
	TenantClaim      string `json:"tenant_claim,omitempty"`
	DatabasesClaim   string `json:"databases_claim,omitempty"`
	RoleClaim        string `json:"role_claim,omitempty"`
	CollectionsClaim string `json:"collections_claim,omitempty"`
	// An object claim of the token's own quotas (as in a `limits` block);
	// they only tighten the limits of its user.
	LimitsClaim string `json:"limits_claim,omitempty"`

	// Row-level security from claims: metadata key → claim path. The
	// identity sees and changes only the records whose metadata holds each
	// key with the value of its claim; a token lacking one is refused.
	RowsClaims map[string]string `json:"rows_claims,omitempty"`

	// How often the provider's keys are fetched again. Default 10m.
	RefreshInterval caddy.Duration `json:"refresh_interval,omitempty"`

	// The least time between two fetches of the provider's keys: on a
	// token of an unknown key id, and while the provider is down. Default
	// 5s, at least 1s.
	MinRefreshInterval caddy.Duration `json:"min_refresh_interval,omitempty"`

	// How many verified tokens to remember (until each one's exp), so a
	// reused token costs no signature check. Default 10000.
	CacheSize int `json:"cache_size,omitempty"`
}

// reasonJWTUnavailable: a JWT came while the provider's keys have not
// been fetched yet (answered 503 with Retry-After).
const reasonJWTUnavailable = "jwt_unavailable"

var bodyJWTUnavailable = []byte(`{"error":"ServiceUnavailable","message":"The token signing keys are not available yet; retry shortly"}`)

// jwtauthConfig resolves placeholders and builds the verifier's config.
func (c *JWTConfig) jwtauthConfig(reload time.Duration) (jwtauth.Config, error) {
	repl := caddy.NewReplacer()
	cfg := jwtauth.Config{
		Issuer:             repl.ReplaceAll(c.Issuer, ""),
		JWKSURL:            repl.ReplaceAll(c.JWKSURL, ""),
		SecretFile:         repl.ReplaceAll(c.SecretFile, ""),
		Audience:           c.Audience,
		Algorithms:         c.Algorithms,
		Leeway:             time.Duration(c.Leeway),
		UserClaim:          c.UserClaim,
		TenantClaim:        c.TenantClaim,
		DatabasesClaim:     c.DatabasesClaim,
		RoleClaim:          c.RoleClaim,
		CollectionsClaim:   c.CollectionsClaim,
		RowsClaims:         c.RowsClaims,
		LimitsClaim:        c.LimitsClaim,
		RefreshInterval:    time.Duration(c.RefreshInterval),
		MinRefreshInterval: time.Duration(c.MinRefreshInterval),
		ReloadInterval:     reload,
		CacheSize:          c.CacheSize,
	}
	for _, f := range c.KeyFiles {
		cfg.KeyFiles = append(cfg.KeyFiles, repl.ReplaceAll(f, ""))
	}
	if c.Secret != "" {
		s := repl.ReplaceAll(c.Secret, "")
		if s == "" {
			return cfg, errors.New("jwt: secret is empty once its placeholders are replaced (an unset environment variable?)")
		}
		cfg.Secret = []byte(s)
	}
	return cfg, cfg.Validate()
}

// provisionJWT builds and starts the verifier. An unreadable key file
// stops the config; a provider that is down does not (its tokens get 503
// until its keys arrive).
func (h *ChromaAuth) provisionJWT() error {
	if h.JWT == nil {
		return nil
	}
	reload := time.Duration(h.ReloadInterval)
	cfg, err := h.JWT.jwtauthConfig(reload)
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

// unmarshalJWT reads the `jwt { ... }` block; the dispenser is on `jwt`.
//
//	jwt {
//	    issuer            <url>
//	    jwks_url          <url>
//	    key_file          <pem...>
//	    secret            <secret>
//	    secret_file       <file>
//	    audience          <aud...>
//	    algorithms        <alg...>
//	    leeway            <duration>
//	    user_claim        <path>
//	    tenant_claim      <path>
//	    databases_claim   <path>
//	    role_claim        <path>
//	    collections_claim <path>
//	    rows_claims {
//	        <metadata key> <claim path>
//	    }
//	    limits_claim      <path>
//	    refresh_interval  <duration>
//	    min_refresh_interval <duration>
//	    cache_size        <n>
//	}
func unmarshalJWT(d *caddyfile.Dispenser, c *JWTConfig) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		switch name {
		case "rows_claims": // a block, not arguments
			if err := unmarshalRowsClaims(d, c); err != nil {
				return err
			}
			continue
		}
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.Errf("chroma_auth: jwt: %s needs an argument", name)
		}
		list := func(dst *[]string) error { *dst = append(*dst, args...); return nil }
		one := func(dst *string) error {
			if len(args) != 1 {
				return d.Errf("chroma_auth: jwt: %s takes exactly one argument", name)
			}
			*dst = args[0]
			return nil
		}
		dur := func(dst *caddy.Duration) error {
			var s string
			if err := one(&s); err != nil {
				return err
			}
			v, err := caddy.ParseDuration(s)
			if err != nil || v < 0 {
				return d.Errf("chroma_auth: jwt: %s wants a duration such as 30s; got %q", name, s)
			}
			*dst = caddy.Duration(v)
			return nil
		}
		var err error
		switch name {
		case "issuer":
			err = one(&c.Issuer)
		case "jwks_url":
			err = one(&c.JWKSURL)
		case "key_file":
			err = list(&c.KeyFiles)
		case "secret":
			err = one(&c.Secret)
		case "secret_file":
			err = one(&c.SecretFile)
		case "audience":
			err = list(&c.Audience)
		case "algorithms":
			err = list(&c.Algorithms)
		case "leeway":
			err = dur(&c.Leeway)
		case "user_claim":
			err = one(&c.UserClaim)
		case "tenant_claim":
			err = one(&c.TenantClaim)
		case "databases_claim":
			err = one(&c.DatabasesClaim)
		case "role_claim":
			err = one(&c.RoleClaim)
		case "collections_claim":
			err = one(&c.CollectionsClaim)
		case "limits_claim":
			err = one(&c.LimitsClaim)
		case "refresh_interval":
			err = dur(&c.RefreshInterval)
		case "min_refresh_interval":
			err = dur(&c.MinRefreshInterval)
		case "cache_size":
			var s string
			if err = one(&s); err == nil {
				if _, serr := fmt.Sscanf(s, "%d", &c.CacheSize); serr != nil || c.CacheSize < 0 {
					return d.Errf("chroma_auth: jwt: cache_size wants a whole number; got %q", s)
				}
			}
		default:
			return d.Errf("chroma_auth: jwt: unknown option %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkJWT loads the jwt block's key and secret files as Provision would,
// without fetching anything, for `caddy chroma-auth check`: the files (for
// the file mode warnings) and what is wrong.
func (h *ChromaAuth) checkJWT() ([]string, error) {
	if h.JWT == nil {
		return nil, nil
	}
	cfg, err := h.JWT.jwtauthConfig(-1)
	files := append([]string{}, cfg.KeyFiles...)
	if cfg.SecretFile != "" {
		files = append(files, cfg.SecretFile)
	}
	if err == nil {
		_, err = jwtauth.CheckStatic(cfg)
	}
	if err != nil {
		return files, fmt.Errorf("chroma_auth: %w", err)
	}
	return files, nil
}

// unmarshalRowsClaims reads `rows_claims { <metadata key> <claim path> ... }`.
func unmarshalRowsClaims(d *caddyfile.Dispenser, c *JWTConfig) error {
	if d.NextArg() {
		return d.Errf("chroma_auth: jwt: rows_claims takes a block of <metadata key> <claim path> lines")
	}
	if c.RowsClaims == nil {
		c.RowsClaims = make(map[string]string)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		key := d.Val()
		args := d.RemainingArgs()
		if len(args) != 1 {
			return d.Errf("chroma_auth: jwt: rows_claims: %s wants one claim path", key)
		}
		if _, dup := c.RowsClaims[key]; dup {
			return d.Errf("chroma_auth: jwt: rows_claims: %s given twice", key)
		}
		c.RowsClaims[key] = args[0]
	}
	if len(c.RowsClaims) == 0 {
		return d.Errf("chroma_auth: jwt: rows_claims is empty")
	}
	return nil
}
