// Package config is the chroma_auth handler's configuration: its JSON
// fields, its Caddyfile block, Chroma's environment variables (from_env),
// and the load of its credential and RBAC files into a policy snapshot.
// The handler (the root package) and `caddy chroma-auth` (cli/) both load
// a handler's config through it: check, key create --config, explain and
// test judge by the very files and settings the gateway does.
package config

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/audit"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Handler is the configuration of one chroma_auth handler: the handler's
// JSON (the root package's ChromaAuth embeds it), read from the Caddyfile
// by UnmarshalCaddyfile.
type Handler struct {
	// An htpasswd file of bcrypt hashes (made with `htpasswd -B`) for Basic
	// auth. Chroma's CHROMA_SERVER_AUTHN_CREDENTIALS_FILE for basic auth.
	HtpasswdFile string `json:"htpasswd_file,omitempty"`

	// A Chroma users YAML file (`users:` with `id`, `role`, `tenant`,
	// `databases`, `tokens`) giving the htpasswd users their tenant,
	// databases and role. Tokens listed in it are accepted as well.
	UsersFile string `json:"users_file,omitempty"`

	// Static tokens. Placeholders such as `{env.CHROMA_TOKEN}` are
	// replaced at load; a token that comes out empty is an error. Each is an
	// anonymous token: user "anonymous", every tenant and database.
	Tokens []string `json:"tokens,omitempty"`

	// Token files: one token a line ('#' starts a comment), or a Chroma
	// users YAML whose users carry `tokens`.
	TokenFiles []string `json:"token_files,omitempty"`

	// An API keys file, written by `caddy chroma-auth key create|revoke`:
	// one JSON line per key with its user, scope, expiry and a hash of the
	// key (never the key). Keys are sent like tokens; an expired key is
	// answered 401 "API key expired".
	KeysFile string `json:"keys_file,omitempty"`

	// Turns on the audit log: a line per decision on the logger
	// `http.handlers.chroma_auth.audit` (see Audit).
	Audit *Audit `json:"audit,omitempty"`

	// The header clients send the token in: `Authorization` (as
	// `Bearer <token>`, the default) or `X-Chroma-Token`. Chroma's spellings
	// `AUTHORIZATION` and `X_CHROMA_TOKEN` are accepted.
	TokenHeader string `json:"token_header,omitempty"`

	// Extra public paths: exact paths that GET and HEAD reach without
	// credentials, in addition to Chroma's heartbeat and version routes.
	Public []string `json:"public,omitempty"`

	// Turns off the default public routes (`/api/v1`, `/api/v1/heartbeat`,
	// `/api/v1/version`, `/api/v2`, `/api/v2/heartbeat`, `/api/v2/version`,
	// `/api/v2/healthcheck`), so that every route needs credentials but
	// those listed in `public`.
	NoDefaultPublic bool `json:"no_default_public,omitempty"`

	// Forward the credential headers (`Authorization`, `X-Chroma-Token`)
	// upstream. By default they are removed: Chroma does not need them,
	// and an upstream log should not see them.
	ForwardCredentials bool `json:"forward_credentials,omitempty"`

	// The realm of the `WWW-Authenticate: Basic` challenge. Default "Chroma".
	Realm string `json:"realm,omitempty"`

	// How many verified (user, password) pairs to remember, so bcrypt runs
	// once per pair rather than once per request. Default 10000.
	CacheSize int `json:"cache_size,omitempty"`

	// How many bcrypt checks may run at once. Default: half the CPUs (at
	// least one), so a flood of wrong passwords leaves the other half to
	// the requests with valid (cached) credentials.
	MaxConcurrentBcrypt int `json:"max_concurrent_bcrypt,omitempty"`

	// How many failed credential checks a client address may make a minute;
	// past that every credential it has not used with success before is
	// answered 429 with Retry-After, right or wrong, unchecked (so a blocked
	// address learns nothing), while the credentials that did succeed from
	// it still pass. Default 60; -1 turns the limit off. The address is
	// the nearest one the server's trusted_proxies do not cover, as
	// trusted_proxies_strict finds it (X-Forwarded-For walked from the
	// right), whatever the server's own strict setting; IPv6 clients count
	// by their /64.
	FailuresPerMinute int `json:"failures_per_minute,omitempty"`

	// How often the credential and authz files are checked for changes and
	// reloaded. A file that fails to load is logged with its file and line,
	// and the last good credentials stay in force. Default 2s; a negative
	// value turns live reload off.
	ReloadInterval caddy.Duration `json:"reload_interval,omitempty"`

	// How long a collection name the gateway learned is trusted when a
	// user's collection grants are judged by it; after that the next
	// request by id looks the collection up again, so a rename made on
	// Chroma directly or through another gateway is in force within it
	// (a rename through this gateway at once). Default 10s.
	CollectionNameTTL caddy.Duration `json:"collection_name_ttl,omitempty"`

	// What htpasswd users that users_file does not list get: "all" (every
	// tenant and database) or "deny" (they cannot log in). Unset, such
	// users are an error at load, which names each of them: a users file
	// that forgets a user must not give it everything.
	UnlistedUsers string `json:"unlisted_users,omitempty"`

	// Chroma's RBAC file (`roles_mapping` of roles to actions, `users` with
	// `id` and `role`): when set, every request's action is checked against
	// the caller's role, and routes the gateway does not know are denied.
	// Chroma's CHROMA_SERVER_AUTHZ_CONFIG_FILE.
	AuthzFile string `json:"authz_file,omitempty"`

	// Do not send a scoped user's requests for Chroma's default tenant and
	// database to the user's own. By default, as Chroma 0.5's
	// overwrite_singleton_tenant_database_access_from_auth did, a user
	// scoped to one tenant (and one database) whose client addresses
	// `default_tenant` (`default_database`) lands in its own, since most
	// clients address the defaults unless told otherwise.
	NoSingletonOverwrite bool `json:"no_singleton_overwrite,omitempty"`

	// Read the settings from Chroma's own environment variables
	// (CHROMA_SERVER_AUTHN_PROVIDER, CHROMA_SERVER_AUTHN_CREDENTIALS_FILE,
	// CHROMA_SERVER_AUTHN_CREDENTIALS, CHROMA_AUTH_TOKEN_TRANSPORT_HEADER,
	// CHROMA_SERVER_AUTHZ_CONFIG_FILE and the 0.4 names), so a Chroma
	// deployment's environment works unchanged.
	FromEnv bool `json:"from_env,omitempty"`

	// Quotas per identity: rate, burst, concurrent, max_batch,
	// max_results, max_where (see QuotaConfig).
	Limits *QuotaConfig `json:"limits,omitempty"`

	// A Redis in which every gateway naming it counts the failure
	// limiter and the quotas (see SharedState).
	SharedState *SharedState `json:"shared_state,omitempty"`

	// JSON Web Tokens from an identity provider (OpenID Connect) or
	// self-issued, in the token header; see JWTConfig.
	JWT *JWTConfig `json:"jwt,omitempty"`

	// Client certificates that Caddy verified (tls client_auth) are
	// identities: the users_file user whose `certs:` match; see ClientCert.
	ClientCert *ClientCert `json:"client_cert,omitempty"`

	// inlineHtpasswd holds htpasswd lines from Chroma's environment
	// (from_env), named inlineHtpasswdName in messages.
	inlineHtpasswd, inlineHtpasswdName string
}

// Audit turns on the audit log (see audit.Config): `audit` or `audit {
// public }` in the Caddyfile.
type Audit = audit.Config

// DefaultFailuresPerMinute is how many failed credential checks a client
// address may make a minute before it is answered 429.
const DefaultFailuresPerMinute = 60

// DefaultCollectionNameTTL is how long a learned collection name is
// trusted for a grant decision by default (collection_name_ttl): a rename
// made on Chroma directly or through another gateway is seen within it.
const DefaultCollectionNameTTL = 10 * time.Second

// Decode is a chroma_auth handler's config from its JSON (with or
// without its "handler" key), strictly: an unknown field is an error.
func Decode(raw json.RawMessage) (*Handler, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "handler")
	stripped, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	c := new(Handler)
	if err := caddy.StrictUnmarshalJSON(stripped, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Sources resolves placeholders (such as {env.CHROMA_TOKEN}) in the
// configured paths and tokens.
func (c *Handler) Sources() providers.Sources {
	repl := caddy.NewReplacer()
	src := providers.Sources{
		HtpasswdFile:       repl.ReplaceAll(c.HtpasswdFile, ""),
		HtpasswdInline:     c.inlineHtpasswd,
		HtpasswdInlineName: c.inlineHtpasswdName,
		UsersFile:          repl.ReplaceAll(c.UsersFile, ""),
		KeysFile:           repl.ReplaceAll(c.KeysFile, ""),
		UnlistedUsers:      c.UnlistedUsers,
		Elsewhere:          c.JWT != nil,
		ClientCert:         c.ClientCert != nil,
	}
	for _, t := range c.Tokens {
		src.Tokens = append(src.Tokens, repl.ReplaceAll(t, ""))
	}
	for _, f := range c.TokenFiles {
		src.TokenFiles = append(src.TokenFiles, repl.ReplaceAll(f, ""))
	}
	return src
}

// Validate checks the configuration for mistakes that need no file.
func (c *Handler) Validate() error {
	if !c.hasCredentials() && !c.FromEnv {
		return fmt.Errorf("chroma_auth: no credentials configured (basic, token, token_file, users_file or keys_file): refusing to start open")
	}
	if _, err := CanonicalTokenHeader(c.TokenHeader); err != nil {
		return err
	}
	for _, p := range c.Public {
		if err := CheckPublicPath(p); err != nil {
			return err
		}
	}
	if c.CacheSize < 0 || c.MaxConcurrentBcrypt < 0 || c.FailuresPerMinute < -1 {
		return fmt.Errorf("chroma_auth: cache_size, max_concurrent_bcrypt and failures_per_minute cannot be negative")
	}
	if c.CollectionNameTTL < 0 {
		return fmt.Errorf("chroma_auth: collection_name_ttl cannot be negative")
	}
	if err := c.validateQuota(); err != nil {
		return err
	}
	if c.ClientCert != nil && c.UsersFile == "" {
		return fmt.Errorf("chroma_auth: client_cert needs a users_file whose users list their certs:")
	}
	if err := c.validateShared(); err != nil {
		return err
	}
	if !validUnlisted(c.UnlistedUsers) {
		return fmt.Errorf("chroma_auth: unlisted_users %q: want all or deny", c.UnlistedUsers)
	}
	if strings.ContainsAny(c.Realm, "\"\\\r\n") {
		return fmt.Errorf("chroma_auth: realm %q: no quotes, backslashes or line breaks", c.Realm)
	}
	return nil
}

func validUnlisted(v string) bool {
	return v == "" || v == providers.UnlistedAll || v == providers.UnlistedDeny
}

// ApplyDefaults writes the default of every unset tunable into the
// config, so that the handler's fields say what is in force (and the
// README's defaults can be checked against them).
func (c *Handler) ApplyDefaults() {
	if c.CacheSize == 0 {
		c.CacheSize = providers.DefaultCacheSize
	}
	if c.MaxConcurrentBcrypt == 0 {
		c.MaxConcurrentBcrypt = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.FailuresPerMinute == 0 {
		c.FailuresPerMinute = DefaultFailuresPerMinute
	}
	if c.ReloadInterval == 0 {
		c.ReloadInterval = caddy.Duration(providers.DefaultReloadInterval)
	}
	if c.CollectionNameTTL == 0 {
		c.CollectionNameTTL = caddy.Duration(DefaultCollectionNameTTL)
	}
}

// Interface guards
var (
	_ caddy.Validator = (*Handler)(nil)
)
