// Package chromaauth is a Caddy HTTP handler that puts Chroma's server
// authentication (and authorization) in front of a Chroma vector database:
// Basic auth against a bcrypt htpasswd file, static tokens in
// `Authorization: Bearer` or `X-Chroma-Token`, Chroma's public heartbeat
// and version routes, and the error bodies Chroma's clients understand.
package chromaauth

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/audit"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/limiter"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func init() {
	caddy.RegisterModule(ChromaAuth{})
}

// ChromaAuth authenticates every request to a Chroma server. A request
// passes when it carries a valid credential of a configured kind (a Basic
// user and password from the htpasswd file, or a token), or when it is a GET
// or HEAD of a public route. Anything else is answered 401 with Chroma's
// `{"error":"AuthorizationError","message":"Unauthorized"}` body, which the
// Chroma clients turn into their own unauthorized error.
//
// After a successful check the placeholders `{http.auth.user.id}`,
// `{http.auth.user.tenant}`, `{http.auth.user.databases}`,
// `{http.auth.user.role}` and `{http.auth.user.provider}` are set, like
// Caddy's own authentication handler does, so logs and `header_up` can use
// them. The credential headers are removed before the request goes
// upstream, unless forward_credentials is set.
type ChromaAuth struct {
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

	tokenHeader string // canonical: "Authorization" or "X-Chroma-Token"
	public      map[string]struct{}
	src         providers.Sources
	auth        *providers.Authenticator
	policy      *atomic.Pointer[policy] // the policy in force; see policy
	owners      *authz.Owners
	listings    *authz.ListingCache
	resolver    *authz.Resolver
	namer       *authz.Namer // names the audit's collections by id
	limiter     *limiter.Limiter
	stopWatch   func()
	logger      *zap.Logger
	jwt         *jwtauth.Verifier // nil unless JWT is set
	auditLog    *zap.Logger       // nil when the audit is off
	quota       *quotaState
	sharedKey   string // the shared store this handler holds ("" for none)
}

// CaddyModule returns the Caddy module information.
func (ChromaAuth) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.chroma_auth",
		New: func() caddy.Module { return new(ChromaAuth) },
	}
}

// Provision loads the credentials. Any problem in a file is an error that
// names the file, line and user, and stops the config from loading: the
// gateway never starts open or half-configured.
func (h *ChromaAuth) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.applyDefaults()
	if h.Audit != nil {
		h.auditLog = h.logger.Named(audit.Logger)
	}
	h.policy = new(atomic.Pointer[policy])
	pol, warnings, err := h.prepare(os.LookupEnv)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		h.logger.Warn(w)
	}
	h.policy.Store(pol)
	slots := h.MaxConcurrentBcrypt
	if slots == 0 {
		slots = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if err := initMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("chroma_auth: metrics: %w", err)
	}
	h.auth = providers.NewAuthenticator(pol.creds, providers.Options{
		CacheSize:           h.CacheSize,
		MaxConcurrentBcrypt: slots,
		BcryptQueueTimeout:  bcryptQueueTimeout,
		OnBcrypt:            countBcrypt,
		OnCacheHit:          countCacheHit,
	})
	trackAuthenticator(h.auth, true)
	h.owners = authz.NewOwners(lookup.MaxOwners)
	h.listings = authz.NewListingCache(h.listingTTL())
	h.resolver = authz.NewResolver(h.owners)
	h.namer = authz.NewNamer(h.resolver, audit.MaxWaiting)
	perMinute := h.FailuresPerMinute
	if perMinute == 0 {
		perMinute = DefaultFailuresPerMinute
	}
	h.limiter = limiter.New(perMinute)
	h.provisionQuota()
	if err := h.provisionJWT(); err != nil {
		return err
	}
	if err := h.provisionShared(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.logger.Info("credentials loaded",
		zap.Int("basic_users", pol.creds.NumUsers()),
		zap.Int("tokens", pol.creds.NumTokens()),
		zap.Int("api_keys", pol.creds.NumKeys()),
		zap.Int("cert_users", pol.creds.NumCertUsers()),
		zap.String("token_header", h.tokenHeader),
		zap.Bool("rbac", pol.rbac != nil))
	h.warnCredentialLogs(ctx, pol)
	if h.ReloadInterval >= 0 {
		if files := h.watchedFiles(); len(files) > 0 {
			h.stopWatch = providers.Watch(files, time.Duration(h.ReloadInterval), h.reload)
		}
	}
	return nil
}

// Cleanup stops the live reload of this instance; a config reload has
// already provisioned its successor.
func (h *ChromaAuth) Cleanup() error {
	if h.stopWatch != nil {
		h.stopWatch()
	}
	h.cleanupJWT()
	h.cleanupShared()
	if h.auth != nil {
		trackAuthenticator(h.auth, false)
	}
	return nil
}

// sources resolves placeholders (such as {env.CHROMA_TOKEN}) in the
// configured paths and tokens.
func (h *ChromaAuth) sources() providers.Sources {
	repl := caddy.NewReplacer()
	src := providers.Sources{
		HtpasswdFile:       repl.ReplaceAll(h.HtpasswdFile, ""),
		HtpasswdInline:     h.inlineHtpasswd,
		HtpasswdInlineName: h.inlineHtpasswdName,
		UsersFile:          repl.ReplaceAll(h.UsersFile, ""),
		KeysFile:           repl.ReplaceAll(h.KeysFile, ""),
		UnlistedUsers:      h.UnlistedUsers,
		Elsewhere:          h.JWT != nil,
		ClientCert:         h.ClientCert != nil,
	}
	for _, t := range h.Tokens {
		src.Tokens = append(src.Tokens, repl.ReplaceAll(t, ""))
	}
	for _, f := range h.TokenFiles {
		src.TokenFiles = append(src.TokenFiles, repl.ReplaceAll(f, ""))
	}
	return src
}

// Validate checks the configuration for mistakes that need no file.
func (h *ChromaAuth) Validate() error {
	if !h.hasCredentials() && !h.FromEnv {
		return fmt.Errorf("chroma_auth: no credentials configured (basic, token, token_file, users_file or keys_file): refusing to start open")
	}
	if _, err := canonicalTokenHeader(h.TokenHeader); err != nil {
		return err
	}
	for _, p := range h.Public {
		if err := checkPublicPath(p); err != nil {
			return err
		}
	}
	if h.CacheSize < 0 || h.MaxConcurrentBcrypt < 0 || h.FailuresPerMinute < -1 {
		return fmt.Errorf("chroma_auth: cache_size, max_concurrent_bcrypt and failures_per_minute cannot be negative")
	}
	if h.CollectionNameTTL < 0 {
		return fmt.Errorf("chroma_auth: collection_name_ttl cannot be negative")
	}
	if err := h.validateQuota(); err != nil {
		return err
	}
	if h.ClientCert != nil && h.UsersFile == "" {
		return fmt.Errorf("chroma_auth: client_cert needs a users_file whose users list their certs:")
	}
	if err := h.validateShared(); err != nil {
		return err
	}
	if !validUnlisted(h.UnlistedUsers) {
		return fmt.Errorf("chroma_auth: unlisted_users %q: want all or deny", h.UnlistedUsers)
	}
	if strings.ContainsAny(h.Realm, "\"\\\r\n") {
		return fmt.Errorf("chroma_auth: realm %q: no quotes, backslashes or line breaks", h.Realm)
	}
	return nil
}

func validUnlisted(v string) bool {
	return v == "" || v == providers.UnlistedAll || v == providers.UnlistedDeny
}

// DefaultFailuresPerMinute is how many failed credential checks a client
// address may make a minute before it is answered 429.
const DefaultFailuresPerMinute = 60

// bcryptQueueTimeout is how long a Basic check waits for a bcrypt slot
// before it is answered 503 (a variable so that tests can shorten it).
var bcryptQueueTimeout = providers.DefaultBcryptQueueTimeout

// applyDefaults writes the default of every unset tunable into the config,
// so that the handler's fields say what is in force (and the README's
// defaults can be checked against them).
func (h *ChromaAuth) applyDefaults() {
	if h.CacheSize == 0 {
		h.CacheSize = providers.DefaultCacheSize
	}
	if h.MaxConcurrentBcrypt == 0 {
		h.MaxConcurrentBcrypt = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if h.FailuresPerMinute == 0 {
		h.FailuresPerMinute = DefaultFailuresPerMinute
	}
	if h.ReloadInterval == 0 {
		h.ReloadInterval = caddy.Duration(providers.DefaultReloadInterval)
	}
	if h.CollectionNameTTL == 0 {
		h.CollectionNameTTL = caddy.Duration(nameMaxAge)
	}
}

// Interface guards
var (
	_ caddy.Provisioner           = (*ChromaAuth)(nil)
	_ caddy.Validator             = (*ChromaAuth)(nil)
	_ caddy.CleanerUpper          = (*ChromaAuth)(nil)
	_ caddyhttp.MiddlewareHandler = (*ChromaAuth)(nil)
)
