// Package chromaauth is a Caddy HTTP handler that puts Chroma's server
// authentication (and authorization) in front of a Chroma vector database:
// Basic auth against a bcrypt htpasswd file, static tokens in
// `Authorization: Bearer` or `X-Chroma-Token`, Chroma's public heartbeat
// and version routes, and the error bodies Chroma's clients understand.
//
// The package is the Caddy adapter: the module and its Provision, Cleanup
// and ServeHTTP, which reads top-down as a request goes (authenticate,
// decide, act, record). What is not Caddy glue lives in packages of its
// own, none of which imports this one: config (the handler's config and
// the load of its files), admission (quotas, shared_state), rowsproxy
// (row-level security), explain, metrics, and the Caddy-free authz,
// providers, jwtauth, limiter, audit, lookup, rows and quota.
package chromaauth

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/admission"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/audit"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/limiter"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/metrics"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func init() {
	caddy.RegisterModule(ChromaAuth{})
	httpcaddyfile.RegisterHandlerDirective("chroma_auth", parseCaddyfile)
	// Authenticate where Caddy's own basic_auth does: after rewrites, before
	// the handlers (reverse_proxy) that reach Chroma. Users need no `order`.
	httpcaddyfile.RegisterDirectiveOrder("chroma_auth", httpcaddyfile.After, "basic_auth")
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
	// The configuration: the handler's JSON fields (see config.Handler).
	config.Handler

	tokenHeader string // canonical: "Authorization" or "X-Chroma-Token"
	public      map[string]struct{}
	src         providers.Sources
	auth        *providers.Authenticator
	policy      *atomic.Pointer[config.Policy] // the policy in force; see config.Policy
	owners      *authz.Owners
	listings    *authz.ListingCache
	resolver    *authz.Resolver
	namer       *authz.Namer // names the audit's collections by id
	limiter     *limiter.Limiter
	stopWatch   func()
	logger      *zap.Logger
	jwt         *jwtauth.Verifier // nil unless JWT is set
	auditLog    *zap.Logger       // nil when the audit is off
	auditOut    *audit.Output     // the audit's own output; nil: auditLog
	quota       *admission.Quotas
	shared      *admission.Shared // nil without shared_state
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
	h.ApplyDefaults()
	if h.Audit != nil {
		h.auditLog = audit.NewLogger(ctx)
		var err error
		if h.auditOut, err = audit.OpenOutput(ctx, h.Audit, h.logger); err != nil {
			return err
		}
	}
	h.policy = new(atomic.Pointer[config.Policy])
	pol, warnings, err := h.prepare(os.LookupEnv)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		h.logger.Warn(w)
	}
	h.policy.Store(pol)
	if err := metrics.Init(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("chroma_auth: metrics: %w", err)
	}
	h.auth = providers.NewAuthenticator(pol.Creds, providers.Options{
		CacheSize:           h.CacheSize,
		MaxConcurrentBcrypt: h.MaxConcurrentBcrypt,
		BcryptQueueTimeout:  bcryptQueueTimeout,
		OnBcrypt:            metrics.Bcrypt,
		OnCacheHit:          metrics.CacheHit,
	})
	metrics.Track(h.auth, true)
	h.owners = authz.NewOwners(lookup.MaxOwners)
	h.listings = authz.NewListingCache(h.listingTTL())
	h.resolver = authz.NewResolver(h.owners)
	h.namer = authz.NewNamer(h.resolver, audit.MaxWaiting)
	h.limiter = limiter.New(h.FailuresPerMinute)
	h.quota = admission.New(h.Limits)
	if err := h.provisionJWT(); err != nil {
		return err
	}
	if h.SharedState != nil {
		// The failure limiter and the quotas count in the shared store.
		if h.shared, err = admission.OpenShared(h.SharedState, h.logger, ctx.GetMetricsRegistry()); err != nil {
			return err
		}
		h.quota.UseShared(h.shared.Store)
		h.limiter.Shared = h.shared.Store
	}
	h.logger.Info("credentials loaded",
		zap.Int("basic_users", pol.Creds.NumUsers()),
		zap.Int("tokens", pol.Creds.NumTokens()),
		zap.Int("api_keys", pol.Creds.NumKeys()),
		zap.Int("cert_users", pol.Creds.NumCertUsers()),
		zap.String("token_header", h.tokenHeader),
		zap.Bool("rbac", pol.RBAC != nil))
	h.warnCredentialLogs(ctx, pol)
	if h.ReloadInterval >= 0 {
		if files := h.WatchedFiles(h.src); len(files) > 0 {
			h.stopWatch = providers.Watch(files, time.Duration(h.ReloadInterval), h.reload)
		}
	}
	return nil
}

// prepare loads the config (see config.Handler.Prepare) and keeps what
// the requests need of it.
func (h *ChromaAuth) prepare(lookupEnv func(string) (string, bool)) (*config.Policy, []string, error) {
	p, err := h.Prepare(lookupEnv)
	h.tokenHeader, h.public, h.src = p.TokenHeader, p.Public, p.Sources
	return p.Policy, p.Warnings, err
}

// reload reads every credential and RBAC file again (see
// config.Handler.Reload). A set that fails to load is logged, with the
// file and line the error names, and changes nothing: the last good
// policy stays in force. A good one is swapped in whole, and the cache
// forgets the users it no longer has.
func (h *ChromaAuth) reload() {
	pol, gone, warnings, err := h.Reload(h.src)
	for _, f := range gone {
		h.logger.Error("credentials file is gone; what it held is revoked", zap.String("file", f))
	}
	if err != nil {
		h.logger.Error("credentials reload failed; keeping the last good credentials and roles", zap.Error(err))
		return
	}
	for _, w := range warnings {
		h.logger.Warn(w)
	}
	h.policy.Store(pol)
	h.auth.Swap(pol.Creds)
	h.logger.Info("credentials reloaded",
		zap.Int("basic_users", pol.Creds.NumUsers()),
		zap.Int("tokens", pol.Creds.NumTokens()),
		zap.Bool("rbac", pol.RBAC != nil))
}

// warnCredentialLogs logs the warnings of cli.CredentialLogWarnings for
// the server this handler is provisioned in.
func (h *ChromaAuth) warnCredentialLogs(ctx caddy.Context, pol *config.Policy) {
	s := cli.LogSetup{
		XChromaToken:  h.tokenHeader == headerChromaToken && pol.Creds.Token(),
		Authorization: pol.Creds.Basic() || (pol.Creds.Token() && h.tokenHeader == headerAuthorization),
	}
	if srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok && srv.Logs != nil {
		s.AccessLog, s.LogCredentials = true, srv.Logs.ShouldLogCredentials
	}
	for _, w := range cli.ProvisionLogWarnings(s) {
		h.logger.Warn(strings.TrimSpace(w))
	}
}

// Cleanup stops the live reload of this instance; a config reload has
// already provisioned its successor.
func (h *ChromaAuth) Cleanup() error {
	if h.stopWatch != nil {
		h.stopWatch()
	}
	h.cleanupJWT()
	h.shared.Close()
	if h.auth != nil {
		metrics.Track(h.auth, false)
	}
	return h.auditOut.Close() // Caddy logs its error
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(ChromaAuth)
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return m, err
}

// The config's types, by the names the handler's JSON documents them.
type (
	Audit       = config.Audit
	JWTConfig   = config.JWTConfig
	QuotaConfig = config.QuotaConfig
	SharedState = config.SharedState
	ClientCert  = config.ClientCert
)

// DefaultFailuresPerMinute is how many failed credential checks a client
// address may make a minute before it is answered 429.
const DefaultFailuresPerMinute = config.DefaultFailuresPerMinute

// bcryptQueueTimeout is how long a Basic check waits for a bcrypt slot
// before it is answered 503 (a variable so that tests can shorten it).
var bcryptQueueTimeout = providers.DefaultBcryptQueueTimeout

// Interface guards
var (
	_ caddy.Provisioner           = (*ChromaAuth)(nil)
	_ caddy.Validator             = (*ChromaAuth)(nil)
	_ caddy.CleanerUpper          = (*ChromaAuth)(nil)
	_ caddyhttp.MiddlewareHandler = (*ChromaAuth)(nil)
	_ caddyfile.Unmarshaler       = (*ChromaAuth)(nil)
)
