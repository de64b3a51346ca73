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

// knownName is the name the gateway last learned for collection id ("" when
// none); writeAudit looks unknown ones up off the request's path.
func (h *ChromaAuth) knownName(id string) string {
	if h.owners == nil {
		return ""
	}
	w, _ := h.owners.Get(id)
	return w.Name
}

// writeAudit writes one audit line. Before authentication (no identity)
// the user and key id are what the request tried (a Basic user name, an
// API key's id: no secret). A line naming collections by id whose names
// the gateway does not know yet is written once the names are looked up,
// off the request's path (see authz.Namer): the answer never waits.
func (h *ChromaAuth) writeAudit(r *http.Request, decision string, status int, d *authz.Decision, rt *authz.Route, reason string) {
	c := h.auditLog.Check(zapcore.InfoLevel, "decision")
	if c == nil {
		return
	}
	head := make([]zap.Field, 0, 18)
	head = append(head, zap.String("decision", decision), zap.Int("status", status))
	if id := d.Identity; id != nil {
		head = appendNonEmpty(head, "user", id.User)
		head = appendNonEmpty(head, "provider", id.Provider)
		if id.KeyID != "" {
			head = append(head, zap.String("key_id", id.KeyID))
		}
		if d.Rule.Role != "" {
			head = append(head, zap.String("role", d.Rule.Role))
		}
	} else if decision != decisionAllowed {
		user, provider, keyID := h.attempted(r)
		head = appendNonEmpty(head, "user", user)
		head = appendNonEmpty(head, "provider", provider)
		head = appendNonEmpty(head, "key_id", keyID)
	}
	head = append(head, zap.String("method", r.Method))
	if rt != nil {
		head = appendNonEmpty(head, "action", rt.Action)
		head = appendNonEmpty(head, "route", rt.Name)
		head = appendNonEmpty(head, "tenant", rt.Tenant)
		head = appendNonEmpty(head, "database", rt.Database)
	}
	tail := make([]zap.Field, 0, 3)
	tail = appendNonEmpty(tail, "reason", reason)
	tail = append(tail, zap.String("client_ip", clientIP(r)))
	tail = appendNonEmpty(tail, "request_id", requestID(r))
	touched := h.auditTouched(d, rt)
	ids := make([]string, 0, len(touched))
	for _, t := range touched {
		if t.ID != "" && t.Name == "" {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 0 || rt == nil {
		c.Write(append(append(head, collectionFields(touched)...), tail...)...)
		return
	}
	h.namer.Names(rt.Tenant, rt.Database, ids, d.Lookups, func(names []string) {
		for i, j := 0, 0; i < len(touched) && j < len(names); i++ {
			if touched[i].ID != "" && touched[i].Name == "" {
				touched[i].Name = names[j]
				j++
			}
		}
		c.Write(append(append(head, collectionFields(touched)...), tail...)...)
	})
}

// auditTouched are the collections of an audit line: the route's (by
// name, or by id with the name the gateway knows), then those the
// decision found in the body.
func (h *ChromaAuth) auditTouched(d *authz.Decision, rt *authz.Route) []authz.Touched {
	if rt == nil {
		return nil
	}
	var out []authz.Touched
	if d.Route == rt {
		out = d.Collections()
	} else if rt.Collection != "" {
		if rt.CollectionByID || rt.Unscoped {
			out = append(out, authz.Touched{ID: rt.Collection, Name: rt.CollectionName})
		} else {
			out = append(out, authz.Touched{Name: rt.Collection})
		}
	}
	for i := range out {
		if out[i].ID != "" && out[i].Name == "" {
			out[i].Name = h.knownName(out[i].ID)
		}
	}
	return out
}

// collectionFields are the audit fields of the collections a request
// touches: the path's as collection (its name) and collection_id (when
// named by id), every other one (a name the body asks for, an id it
// names) in collections.
func collectionFields(touched []authz.Touched) []zap.Field {
	var out []zap.Field
	var others []authz.Touched
	for i, t := range touched {
		if i > 0 || t.New || t.InBody {
			others = append(others, t)
			continue
		}
		out = appendNonEmpty(out, "collection", t.Name)
		out = appendNonEmpty(out, "collection_id", t.ID)
	}
	if len(others) > 0 {
		out = append(out, zap.Array("collections", touchedList(others)))
	}
	return out
}

// requestID is Caddy's {http.request.uuid}, made on its first use (a
// write to the request's variables): recordAfter makes it before the
// request goes upstream, whose connection dialing may still read those
// variables after the answer.
func requestID(r *http.Request) string {
	if r.Context().Value(caddyhttp.ExtraLogFieldsCtxKey) == nil { // set by Caddy's server
		return ""
	}
	repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if !ok {
		return ""
	}
	id, _ := repl.GetString("http.request.uuid")
	return id
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
