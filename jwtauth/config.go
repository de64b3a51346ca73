// Package jwtauth verifies JSON Web Tokens from an identity provider (by
// OpenID Connect discovery or a JWKS URL), from static public keys or
// signed with a shared HMAC secret, and maps their claims onto the
// gateway's providers.Identity. Signatures and claims are checked by
// go-jose; nothing here parses a JWT by hand.
package jwtauth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// Defaults.
const (
	DefaultRefreshInterval    = 10 * time.Minute
	DefaultMinRefreshInterval = 5 * time.Second
	DefaultCacheSize          = 10000
	DefaultUserClaim          = "sub"
	// DefaultHTTPTimeout bounds each fetch, the first one (made while the
	// gateway starts) included.
	DefaultHTTPTimeout = 5 * time.Second
	// MinRefreshFloor is the least min_refresh_interval allowed, so made-up
	// key ids cannot make the gateway hammer the provider.
	MinRefreshFloor = time.Second
	// MinSecretLen is the least HMAC secret length, in bytes (RFC 7518
	// 3.2: a key at least as long as the hash, 256 bits for HS256).
	MinSecretLen = 32
)

// Config says where keys come from, which tokens are accepted and how
// their claims map onto an identity.
type Config struct {
	// Issuer is matched against `iss`. With no JWKSURL, KeyFile or Secret,
	// the keys come by OpenID Connect discovery from
	// Issuer/.well-known/openid-configuration.
	Issuer string
	// JWKSURL is a JSON Web Key Set to take the keys from.
	JWKSURL string
	// KeyFiles are PEM files of public keys (RSA, EC, Ed25519; PKIX
	// "PUBLIC KEY" or certificates).
	KeyFiles []string
	// Secret is an HMAC key for HS256/384/512 tokens (self-issued).
	Secret []byte
	// SecretFile holds the HMAC key (surrounding white space trimmed);
	// it is reloaded like the key files.
	SecretFile string
	// Audience: a token's `aud` must hold one of these. Required with
	// Issuer or JWKSURL.
	Audience []string
	// Algorithms allowed; default: every one the configured keys verify.
	Algorithms []string
	// Leeway for exp, nbf and iat.
	Leeway time.Duration

	// Claim paths, dotted ("chroma.tenant" is claim chroma, member tenant;
	// a claim whose own name holds dots, such as Auth0's
	// "https://example.com/tenant", is found whole). Empty means unmapped,
	// except UserClaim which defaults to "sub".
	UserClaim, TenantClaim, DatabasesClaim, RoleClaim, CollectionsClaim string
	// LimitsClaim names an object claim of quotas ({"rate": "10/s",
	// "burst": 20, "concurrent": 4, "max_batch": 100, ...}); they only
	// tighten the user's.
	LimitsClaim string

	// RowsClaims maps metadata keys to claim paths: the identity's rows
	// (row-level security) take each key's value from its claim. A token
	// that lacks one, or holds anything but a non-empty string there, is
	// refused: it must not see every record.
	RowsClaims map[string]string

	// RefreshInterval is how often remote keys are fetched again.
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches (also on
	// an unknown key id, and the retry delay while no keys are known).
	MinRefreshInterval time.Duration
	// ReloadInterval is how often KeyFiles and SecretFile are checked for
	// changes; negative turns that off.
	ReloadInterval time.Duration
	// CacheSize bounds the verified-token cache.
	CacheSize int
	// HTTPTimeout bounds each fetch of discovery or JWKS documents.
	HTTPTimeout time.Duration
}

var (
	hmacAlgs       = []string{"HS256", "HS384", "HS512"}
	asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

// remote reports whether keys come from the network.
func (c *Config) remote() bool {
	return c.JWKSURL != "" || (c.Issuer != "" && len(c.KeyFiles) == 0 && !c.hmac())
}

// KeysURL is where the keys come from over the network: the JWKS URL, the
// issuer (discovery), or "" for keys from files and the secret only.
func (c *Config) KeysURL() string {
	switch {
	case c.JWKSURL != "":
		return c.JWKSURL
	case c.remote():
		return c.Issuer
	}
	return ""
}

func (c *Config) hmac() bool { return len(c.Secret) > 0 || c.SecretFile != "" }

// Validate checks the configuration without touching files or network.
func (c *Config) Validate() error {
	if len(c.Secret) > 0 && c.SecretFile != "" {
		return errors.New("jwt: secret and secret_file: keep one")
	}
	if len(c.Secret) > 0 && len(c.Secret) < MinSecretLen {
		return fmt.Errorf("jwt: secret is %d bytes; an HMAC secret needs at least %d", len(c.Secret), MinSecretLen)
	}
	if len(c.Secret) > 0 {
		if err := c.checkSecretLen("secret", len(c.Secret)); err != nil {
			return err
		}
	}
	if !c.remote() && len(c.KeyFiles) == 0 && !c.hmac() {
		return errors.New("jwt: no keys: set issuer (OpenID Connect discovery), jwks_url, key_file or secret")
	}
	if c.remote() && len(c.Audience) == 0 {
		return errors.New("jwt: audience is required with keys from a provider (issuer or jwks_url): a token for another service of the same provider must not pass")
	}
	urls := []string{c.JWKSURL}
	if c.remote() {
		urls = append(urls, c.Issuer) // discovery; otherwise iss may be any string
	}
	for _, u := range urls {
		if u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return fmt.Errorf("jwt: %q: want an http(s) URL", RedactURL(u))
		}
	}
	for _, a := range c.Algorithms {
		if !allowedFor(a, c) {
			return fmt.Errorf("jwt: algorithm %q: not one the configured keys can verify (HMAC HS256/384/512 only with secret; RS*, PS*, ES*, EdDSA only with public keys)", a)
		}
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		return fmt.Errorf("jwt: leeway %s: want 0 to 5m", c.Leeway)
	}
	if c.MinRefreshInterval != 0 && c.MinRefreshInterval < MinRefreshFloor {
		return fmt.Errorf("jwt: min_refresh_interval %s: want at least %s", c.MinRefreshInterval, MinRefreshFloor)
	}
	if c.RefreshInterval < 0 || c.CacheSize < 0 {
		return errors.New("jwt: refresh_interval and cache_size cannot be negative")
	}
	paths := []string{c.UserClaim, c.TenantClaim, c.DatabasesClaim, c.RoleClaim, c.CollectionsClaim, c.LimitsClaim}
	for k, p := range c.RowsClaims {
		if err := rows.Check(map[string]string{k: "x"}); err != nil {
			return fmt.Errorf("jwt: rows_claims: %v", err)
		}
		if p == "" {
			return fmt.Errorf("jwt: rows_claims: %q has no claim path", k)
		}
		paths = append(paths, p)
	}
	for _, p := range paths {
		if strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
			return fmt.Errorf("jwt: claim path %q: empty member name", p)
		}
	}
	return nil
}

// hmacMinLen is the least secret length for an HMAC algorithm: as long as
// its hash (RFC 7518 3.2).
func hmacMinLen(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return MinSecretLen
}

// checkSecretLen refuses a secret (of n bytes, named what) too short for
// an HMAC algorithm the allow-list names: the load fails rather than every
// such token being refused later as a bad signature. With no allow-list,
// the secret verifies the HMAC algorithms it is long enough for.
func (c *Config) checkSecretLen(what string, n int) error {
	for _, a := range c.Algorithms {
		if contains(hmacAlgs, a) && n < hmacMinLen(a) {
			return fmt.Errorf("jwt: %s is %d bytes; algorithm %s needs a secret of at least %d (choose HS256 or a longer secret)", what, n, a, hmacMinLen(a))
		}
	}
	return nil
}

// allowedFor reports whether alg is a signature algorithm that the
// configured kind of key can verify: HMAC only with a secret, asymmetric
// only with public keys. "none" never is.
func allowedFor(alg string, c *Config) bool {
	if contains(hmacAlgs, alg) {
		return c.hmac()
	}
	return contains(asymmetricAlgs, alg) && (c.remote() || len(c.KeyFiles) > 0)
}

// algorithms is the allow-list in force.
func (c *Config) algorithms() []jose.SignatureAlgorithm {
	names := c.Algorithms
	if len(names) == 0 {
		for _, a := range hmacAlgs {
			if c.SecretFile != "" || (len(c.Secret) > 0 && len(c.Secret) >= hmacMinLen(a)) {
				names = append(names, a)
			}
		}
		if c.remote() || len(c.KeyFiles) > 0 {
			names = append(names, asymmetricAlgs...)
		}
	}
	out := make([]jose.SignatureAlgorithm, len(names))
	for i, n := range names {
		out[i] = jose.SignatureAlgorithm(n)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
