// Package audit writes the gateway's audit log: one structured line per
// decision, on the logger `http.handlers.chroma_auth.audit`, naming who
// did what on which collections and what the gateway decided. Never a
// password, token, key, hash or JWT.
package audit

import (
	"net/http"
	"sync"

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

// Line is one decision to write, beside the decision and the route
// (Writer.Write's arguments: pointers apart from the line's strings, so
// that a caller's decision and route stay on its stack).
type Line struct {
	Decision string // one of the Decision constants
	Status   int
	Reason   string
	// Tried is what a request that did not authenticate tried (no
	// secret): a Basic user name, the kind of credential, an API key's id.
	Tried    Tried
	ClientIP string
	// RequestID is Caddy's request id when the caller has it already
	// (RequestID); empty, Write looks it up.
	RequestID string
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

// Write writes the line of r, decided by d, on route rt (d's, or the
// request's from its path). A line naming collections by id whose names
// the gateway does not know yet is written once they are looked up, off
// the request's path (d's Lookups): the answer never waits. Neither d nor
// rt is kept past the call.
func (w Writer) Write(r *http.Request, d *authz.Decision, rt *authz.Route, l Line) {
	c := w.Log.Check(zapcore.InfoLevel, "decision")
	if c == nil {
		return
	}
	fp := fieldPool.Get().(*[]zap.Field)
	fields := (*fp)[:0]
	fields = append(fields, zap.String("decision", l.Decision), zap.Int("status", l.Status))
	if id := d.Identity; id != nil {
		fields = appendNonEmpty(fields, "user", id.User)
		fields = appendNonEmpty(fields, "provider", id.Provider)
		if id.KeyID != "" {
			fields = append(fields, zap.String("key_id", id.KeyID))
		}
		if d.Rule.Role != "" {
			fields = append(fields, zap.String("role", d.Rule.Role))
		}
	} else if l.Decision != DecisionAllowed {
		fields = appendNonEmpty(fields, "user", l.Tried.User)
		fields = appendNonEmpty(fields, "provider", l.Tried.Provider)
		fields = appendNonEmpty(fields, "key_id", l.Tried.KeyID)
	}
	fields = append(fields, zap.String("method", r.Method))
	if rt != nil {
		fields = appendNonEmpty(fields, "action", rt.Action)
		fields = appendNonEmpty(fields, "route", rt.Name)
		fields = appendNonEmpty(fields, "tenant", rt.Tenant)
		fields = appendNonEmpty(fields, "database", rt.Database)
	}
	if l.RequestID == "" {
		l.RequestID = RequestID(r)
	}
	tail := tailFields{reason: l.Reason, clientIP: l.ClientIP, requestID: l.RequestID}
	var buf [1]authz.Touched
	touched := w.touched(buf[:0], d, rt)
	unnamed := 0
	for _, t := range touched {
		if t.ID != "" && t.Name == "" {
			unnamed++
		}
	}
	if unnamed == 0 || w.Namer == nil || d.Lookups == nil {
		fields = tail.append(appendCollections(fields, touched))
		c.Write(fields...)
		// written: the fields go back to the pool, without what they held
		clear(fields)
		if cap(fields) <= maxPooledFields {
			*fp = fields[:0]
			fieldPool.Put(fp)
		}
		return
	}
	// the line is written later, with these fields: they are its own now
	pending := append([]authz.Touched(nil), touched...)
	ids := make([]string, 0, unnamed)
	for _, t := range pending {
		if t.ID != "" && t.Name == "" {
			ids = append(ids, t.ID)
		}
	}
	w.Namer.Names(rt.Tenant, rt.Database, ids, d.Lookups, func(names []string) {
		for i, j := 0, 0; i < len(pending) && j < len(names); i++ {
			if pending[i].ID != "" && pending[i].Name == "" {
				pending[i].Name = names[j]
				j++
			}
		}
		c.Write(tail.append(appendCollections(fields, pending))...)
	})
}

// fieldPool holds the field lists of lines written at once, so that a
// line allocates only what zap's encoder does.
var fieldPool = sync.Pool{New: func() any { f := make([]zap.Field, 0, 24); return &f }}

// maxPooledFields bounds a pooled field list (a line naming many
// collections makes a longer one, which is not kept).
const maxPooledFields = 64

// tailFields are the last fields of a line.
type tailFields struct{ reason, clientIP, requestID string }

func (t tailFields) append(fields []zap.Field) []zap.Field {
	fields = appendNonEmpty(fields, "reason", t.reason)
	fields = append(fields, zap.String("client_ip", t.clientIP))
	return appendNonEmpty(fields, "request_id", t.requestID)
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
