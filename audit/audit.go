// Package audit writes the gateway's audit log: one structured line per
// decision, on the logger `http.handlers.chroma_auth.audit`, naming who
// did what on which collections and what the gateway decided. Never a
// password, token, key, hash or JWT.
package audit

import (
	"net/http"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// Config turns on the audit log: one structured line per decision the
// handler takes, on the logger `http.handlers.chroma_auth.audit`, so that
// Caddy's `log` directive can route it (`include
// http.handlers.chroma_auth.audit`, a file output with rolling) and keep it
// apart from the access log. Each line has the decision (allowed,
// unauthorized, forbidden, bad_request, rate_limited, busy), the status, the user, the
// provider (basic, token, key, jwt) and key id, the Chroma action and
// route, the tenant, database and collection, the client address and
// Caddy's request id (the access log's `uuid`). Never a password, token,
// key, hash or JWT.
type Config struct {
	// Also audit the requests to public routes (heartbeat, version), which
	// are left out by default.
	Public bool `json:"public,omitempty"`
}

// The decisions of an audit line.
const (
	DecisionAllowed      = "allowed"
	DecisionUnauthorized = "unauthorized"
	DecisionForbidden    = "forbidden"
	DecisionRateLimited  = "rate_limited"
	DecisionBusy         = "busy"
	DecisionBadRequest   = "bad_request" // 400, 413: a body or query the gateway cannot judge
	DecisionQuota        = "quota_exceeded"
)

// MaxWaiting bounds the lines waiting for collection names; past it a
// line is written with the names the gateway knows.
const MaxWaiting = 1024

// Logger is the name of the audit's logger under the handler's.
const Logger = "audit"

// Parse reads `audit` or `audit { public }`; the dispenser is on the
// option's name, its arguments read.
func Parse(d *caddyfile.Dispenser, args []string) (*Config, error) {
	if len(args) != 0 {
		return nil, d.Errf("chroma_auth: audit takes no arguments (use a block: audit { public })")
	}
	a := new(Config)
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

// Line is one decision to write.
type Line struct {
	Decision string // one of the Decision constants
	Status   int
	D        *authz.Decision
	Route    *authz.Route // the decision's, or the request's from its path
	Reason   string
	// Tried is what a request that did not authenticate tried (no
	// secret): a Basic user name, the kind of credential, an API key's id.
	Tried    Tried
	ClientIP string
}

// Tried is what an unauthenticated request tried.
type Tried struct{ User, Provider, KeyID string }

// Writer writes audit lines to Log, naming collections by id from Owners,
// else through Namer (see authz.Namer).
type Writer struct {
	Log    *zap.Logger
	Namer  *authz.Namer
	Owners *authz.Owners
}

// Write writes the line of r. A line naming collections by id whose names
// the gateway does not know yet is written once they are looked up, off
// the request's path (the decision's Lookups): the answer never waits.
func (w Writer) Write(r *http.Request, l Line) {
	c := w.Log.Check(zapcore.InfoLevel, "decision")
	if c == nil {
		return
	}
	head := make([]zap.Field, 0, 18)
	head = append(head, zap.String("decision", l.Decision), zap.Int("status", l.Status))
	if id := l.D.Identity; id != nil {
		head = appendNonEmpty(head, "user", id.User)
		head = appendNonEmpty(head, "provider", id.Provider)
		if id.KeyID != "" {
			head = append(head, zap.String("key_id", id.KeyID))
		}
		if l.D.Rule.Role != "" {
			head = append(head, zap.String("role", l.D.Rule.Role))
		}
	} else if l.Decision != DecisionAllowed {
		head = appendNonEmpty(head, "user", l.Tried.User)
		head = appendNonEmpty(head, "provider", l.Tried.Provider)
		head = appendNonEmpty(head, "key_id", l.Tried.KeyID)
	}
	head = append(head, zap.String("method", r.Method))
	rt := l.Route
	if rt != nil {
		head = appendNonEmpty(head, "action", rt.Action)
		head = appendNonEmpty(head, "route", rt.Name)
		head = appendNonEmpty(head, "tenant", rt.Tenant)
		head = appendNonEmpty(head, "database", rt.Database)
	}
	tail := make([]zap.Field, 0, 3)
	tail = appendNonEmpty(tail, "reason", l.Reason)
	tail = append(tail, zap.String("client_ip", l.ClientIP))
	tail = appendNonEmpty(tail, "request_id", RequestID(r))
	touched := w.touched(l.D, rt)
	ids := make([]string, 0, len(touched))
	for _, t := range touched {
		if t.ID != "" && t.Name == "" {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) == 0 || rt == nil || w.Namer == nil {
		c.Write(append(append(head, collectionFields(touched)...), tail...)...)
		return
	}
	w.Namer.Names(rt.Tenant, rt.Database, ids, l.D.Lookups, func(names []string) {
		for i, j := 0, 0; i < len(touched) && j < len(names); i++ {
			if touched[i].ID != "" && touched[i].Name == "" {
				touched[i].Name = names[j]
				j++
			}
		}
		c.Write(append(append(head, collectionFields(touched)...), tail...)...)
	})
}

// RequestID is Caddy's {http.request.uuid}, made on its first use (a
// write to the request's variables): the gateway makes it before the
// request goes upstream, whose connection dialing may still read those
// variables after the answer.
func RequestID(r *http.Request) string {
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
