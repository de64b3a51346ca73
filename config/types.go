package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
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

// VerifierConfig resolves placeholders and builds the verifier's config
// (reload: how often its key and secret files are checked for changes).
func (c *JWTConfig) VerifierConfig(reload time.Duration) (jwtauth.Config, error) {
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

// CheckJWT loads the jwt block's key and secret files as Provision would,
// without fetching anything, for `caddy chroma-auth check`: the files (for
// the file mode warnings) and what is wrong.
func (h *Handler) CheckJWT() ([]string, error) {
	if h.JWT == nil {
		return nil, nil
	}
	cfg, err := h.JWT.VerifierConfig(-1)
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

// ClientCert makes client certificates identities (mutual TLS). Caddy
// verifies the certificate in the handshake, with the site's
// `tls { client_auth { mode require_and_verify; trust_pool file <ca.pem> } }`
// (or mode verify_if_given); the user of users_file whose `certs:` match
// the verified certificate (`CN=`, `URI=`, `DNS=`, `EMAIL=`,
// `SHA256=<fingerprint>`) is the request's identity, with its tenant,
// databases, role and collection grants, and provider "cert".
//
// A verified certificate that no user claims (or that two users' certs
// match) is answered 401; so is a certificate sent together with a
// credential header, as ambiguous. A certificate Caddy did not verify (mode
// request or require) is never an identity. Without a certificate, the
// other credentials work as usual, unless Required is set.
type ClientCert struct {
	// Refuse every request that has no certificate identity (401), even
	// with a valid password, token, key or JWT.
	Required bool `json:"required,omitempty"`
}

// QuotaConfig is the `limits` block: the quotas of every identity (a
// user, an API key; with per_tenant, a tenant as one), which a user's
// `limits:` in the users file replace, and which an API key's or a JWT's
// own limits only tighten.
//
// Over rate or concurrent, a request is answered 429 with Retry-After and
// Chroma's `RateLimitError` body; over a size (max_batch, max_results,
// max_where) 400 with Chroma's `QuotaError` body naming the limit. Either
// way nothing reaches Chroma.
type QuotaConfig struct {
	quota.Limits

	// Count a tenant's identities as one: every user and key of a tenant
	// share its rate and concurrency. Identities of every tenant ("*")
	// still count each on its own.
	PerTenant bool `json:"per_tenant,omitempty"`
}

// SharedState is `shared_state`: a Redis in which every gateway naming it
// counts the failure limiter's tries and the quotas' rates, so that N
// gateways behind a balancer give an address one failure budget and an
// identity one rate, not N. Each gateway leases a share of a bucket in
// batches and spends it in memory: the allowed path makes no round trip
// per request. When Redis does not answer within the timeout, the gateway
// counts in its own memory (its local limits) until Redis answers again,
// logs the change once each way, and shows the mode in the metric
// caddy_chroma_auth_shared_state_up.
type SharedState struct {
	// redis://[[user]:password@]host:port[/db], or rediss:// for TLS.
	// Placeholders ({env.REDIS_URL}) are resolved at start; the password
	// never appears in a log.
	URL string `json:"url"`
	// How long one call to Redis may take before the gateway counts
	// locally instead; default 100ms.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}

// validateShared checks shared_state.
func (h *Handler) validateShared() error {
	if h.SharedState == nil {
		return nil
	}
	if h.SharedState.URL == "" {
		return fmt.Errorf("chroma_auth: shared_state needs a URL (redis://host:port/db or rediss://…)")
	}
	if h.SharedState.Timeout < 0 {
		return fmt.Errorf("chroma_auth: shared_state: timeout cannot be negative")
	}
	return nil
}
