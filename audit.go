package chromaauth

import (
	"net/http"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Audit turns on the audit log: one structured line per decision the
// handler takes, on the logger `http.handlers.chroma_auth.audit`, so that
// Caddy's `log` directive can route it (`include
// http.handlers.chroma_auth.audit`, a file output with rolling) and keep it
// apart from the access log. Each line has the decision (allowed,
// unauthorized, forbidden, bad_request, rate_limited, busy), the status, the user, the
// provider (basic, token, key, jwt) and key id, the Chroma action and
// route, the tenant, database and collection, the client address and
// Caddy's request id (the access log's `uuid`). Never a password, token,
// key, hash or JWT.
type Audit struct {
	// Also audit the requests to public routes (heartbeat, version), which
	// are left out by default.
	Public bool `json:"public,omitempty"`
}

// Audit decisions.
const (
	decisionAllowed      = "allowed"
	decisionUnauthorized = "unauthorized"
	decisionForbidden    = "forbidden"
	decisionRateLimited  = "rate_limited"
	decisionBusy         = "busy"
	decisionBadRequest   = "bad_request" // 400, 413: a body or query the gateway cannot judge
	decisionQuota        = "quota_exceeded"
)

// provisionAudit names the audit logger, when the audit is on.
func (h *ChromaAuth) provisionAudit() {
	if h.Audit != nil && h.logger != nil {
		h.auditLog = h.logger.Named("audit")
	}
}

// unmarshalAudit reads `audit` or `audit { public }`; the dispenser is on
// the option's name, its arguments read.
func unmarshalAudit(d *caddyfile.Dispenser, args []string) (*Audit, error) {
	if len(args) != 0 {
		return nil, d.Errf("chroma_auth: audit takes no arguments (use a block: audit { public })")
	}
	a := new(Audit)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "public":
			if d.NextArg() {
				return nil, d.ArgErr()
			}
			a.Public = true
		default:
			return nil, d.Errf("chroma_auth: audit: unknown option %q (want public)", d.Val())
		}
	}
	return a, nil
}

// collectionName is the name of the collection a route addresses, also
// when it names it by id: resolved for the checks, else as the gateway
// last learned it (the audit never makes a lookup of its own); "" when it
// names none or the name is not known.
func (h *ChromaAuth) collectionName(rt *authz.Route) string {
	switch {
	case rt == nil:
		return ""
	case rt.CollectionName != "":
		return rt.CollectionName
	case rt.CollectionByID || rt.Unscoped:
		if h.owners == nil {
			return ""
		}
		w, _ := h.owners.Get(rt.Collection)
		return w.Name
	}
	return rt.Collection
}

// writeAudit writes one audit line. Before authentication (no identity)
// the user and key id are what the request tried (a Basic user name, an
// API key's id: no secret).
func (h *ChromaAuth) writeAudit(r *http.Request, decision string, status int, d *authz.Decision, rt *authz.Route, reason string) {
	c := h.auditLog.Check(zapcore.InfoLevel, "decision")
	if c == nil {
		return
	}
	fields := make([]zap.Field, 0, 18)
	fields = append(fields, zap.String("decision", decision), zap.Int("status", status))
	if id := d.Identity; id != nil {
		fields = appendNonEmpty(fields, "user", id.User)
		fields = appendNonEmpty(fields, "provider", id.Provider)
		if id.KeyID != "" {
			fields = append(fields, zap.String("key_id", id.KeyID))
		}
		if d.Rule.Role != "" {
			fields = append(fields, zap.String("role", d.Rule.Role))
		}
	} else if decision != decisionAllowed {
		user, provider, keyID := h.attempted(r)
		fields = appendNonEmpty(fields, "user", user)
		fields = appendNonEmpty(fields, "provider", provider)
		fields = appendNonEmpty(fields, "key_id", keyID)
	}
	fields = append(fields, zap.String("method", r.Method))
	if rt != nil {
		fields = appendNonEmpty(fields, "action", rt.Action)
		fields = appendNonEmpty(fields, "route", rt.Name)
		fields = appendNonEmpty(fields, "tenant", rt.Tenant)
		fields = appendNonEmpty(fields, "database", rt.Database)
		fields = appendNonEmpty(fields, "collection", h.collectionName(rt))
		if rt.Collection != "" && (rt.CollectionByID || rt.Unscoped) {
			fields = append(fields, zap.String("collection_id", rt.Collection))
		}
	}
	fields = appendNonEmpty(fields, "reason", reason)
	fields = append(fields, zap.String("client_ip", clientIP(r)))
	if r.Context().Value(caddyhttp.ExtraLogFieldsCtxKey) != nil { // set by Caddy's server
		if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
			id, _ := repl.GetString("http.request.uuid")
			fields = appendNonEmpty(fields, "request_id", id)
		}
	}
	c.Write(fields...)
}

func appendNonEmpty(fields []zap.Field, key, val string) []zap.Field {
	if val == "" {
		return fields
	}
	return append(fields, zap.String(key, val))
}

// attempted names what an unauthenticated request tried, for its audit
// line: a Basic user name, or an API key's id (the part before its
// secret). Never a password, token or key.
func (h *ChromaAuth) attempted(r *http.Request) (user, provider, keyID string) {
	provider = h.attemptedProvider(r)
	switch provider {
	case providers.ProviderBasic:
		user = attemptedUser(r)
	case providers.ProviderToken:
		tok := strings.TrimSpace(r.Header.Get(headerChromaToken))
		if scheme, rest, _ := strings.Cut(strings.TrimSpace(r.Header.Get(headerAuthorization)), " "); strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimSpace(rest)
		}
		if id, _, ok := providers.SplitKey(tok); ok {
			provider, keyID = providers.ProviderKey, id
		} else if h.jwt != nil && jwtauth.LooksLikeJWT(tok) {
			provider = providers.ProviderJWT
		}
	}
	return user, provider, keyID
}

// statusWriter remembers the status the upstream answered.
type statusWriter struct {
	*caddyhttp.ResponseWriterWrapper
	status int
}

func (s *statusWriter) WriteHeader(status int) {
	if s.status == 0 && status >= 200 {
		s.status = status
	}
	s.ResponseWriterWrapper.WriteHeader(status)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriterWrapper.Write(p)
}
