// Package audit writes the gateway's audit log: one structured line per
// decision, on the logger `http.handlers.chroma_auth.audit`, naming who
// did what on which collections and what the gateway decided. Never a
// password, token, key, hash or JWT.
package audit

import (
	"encoding/json"
	"net/http"
	"time"

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

	// Where the lines go instead of the audit's logger: a Caddy log
	// writer module (`file` with its rolling options, `net`, `stdout`,
	// `stderr`, `discard`), written to directly, one line per write, with
	// the bytes of Caddy's `format json`. It skips Caddy's logging and
	// its cost, and with them a log's routing, sampling and other formats.
	// Unset, the lines go to the logger `http.handlers.chroma_auth.audit`.
	WriterRaw json.RawMessage `json:"output,omitempty" caddy:"namespace=caddy.logging.writers inline_key=output"`
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

// Parse reads `audit` or `audit { public; output <writer> … }`; the
// dispenser is on the option's name, its arguments read.
func Parse(d *caddyfile.Dispenser, args []string) (*Config, error) {
	if len(args) != 0 {
		return nil, d.Errf("chroma_auth: audit takes no arguments (use a block: audit { public; output file <path> })")
	}
	a := new(Config)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "public":
			if d.NextArg() {
				return nil, d.ArgErr()
			}
			a.Public = true
		case "output":
			if err := parseOutput(d, a); err != nil {
				return nil, err
			}
		default:
			return nil, d.Errf("chroma_auth: audit: unknown option %q (want public or output)", d.Val())
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

// Writer writes audit lines to Out, or without one to Log, naming
// collections by id from Owners, else through Namer (see authz.Namer).
type Writer struct {
	Log    *zap.Logger
	Out    *Output
	Namer  *authz.Namer
	Owners *authz.Owners
}

// Write writes the line of r, decided by d, on route rt (d's, or the
// request's from its path). A line naming collections by id whose names
// the gateway does not know yet is written once they are looked up, off
// the request's path (d's Lookups): the answer never waits. Neither d nor
// rt is kept past the call.
func (w Writer) Write(r *http.Request, d *authz.Decision, rt *authz.Route, l Line) {
	var c *zapcore.CheckedEntry
	var ts time.Time
	if w.Out != nil {
		ts = w.Out.now()
	} else if c = w.Log.Check(zapcore.InfoLevel, "decision"); c == nil {
		return
	}
	o := &lineObject{decision: l.Decision, status: l.Status, method: r.Method, reason: l.Reason, clientIP: l.ClientIP, requestID: l.RequestID}
	if id := d.Identity; id != nil {
		o.user, o.provider, o.keyID, o.role = id.User, id.Provider, id.KeyID, d.Rule.Role
	} else if l.Decision != DecisionAllowed {
		o.user, o.provider, o.keyID = l.Tried.User, l.Tried.Provider, l.Tried.KeyID
	}
	if rt != nil {
		o.action, o.route, o.tenant, o.database = rt.Action, rt.Name, rt.Tenant, rt.Database
	}
	if o.requestID == "" {
		o.requestID = RequestID(r)
	}
	o.touched = w.touched(o.buf[:0], d, rt)
	unnamed := 0
	for _, t := range o.touched {
		if t.ID != "" && t.Name == "" {
			unnamed++
		}
	}
	if unnamed == 0 || w.Namer == nil || d.Lookups == nil {
		w.emit(c, ts, o)
		return
	}
	// the line is written later: its collections are its own now
	o.touched = append([]authz.Touched(nil), o.touched...)
	ids := make([]string, 0, unnamed)
	for _, t := range o.touched {
		if t.ID != "" && t.Name == "" {
			ids = append(ids, t.ID)
		}
	}
	w.Namer.Names(rt.Tenant, rt.Database, ids, d.Lookups, func(names []string) {
		for i, j := 0, 0; i < len(o.touched) && j < len(names); i++ {
			if o.touched[i].ID != "" && o.touched[i].Name == "" {
				o.touched[i].Name = names[j]
				j++
			}
		}
		w.emit(c, ts, o)
	})
}

// emit writes the line: to the output, or as c's one field.
func (w Writer) emit(c *zapcore.CheckedEntry, ts time.Time, o *lineObject) {
	if c == nil {
		w.Out.write(ts, o)
		return
	}
	o.field[0] = zap.Inline(o)
	c.Write(o.field[:]...)
}

// lineObject is a line's fields, handed to zap as one inline object (the
// line's only field): the encoder writes them as top-level fields, each
// as the field of that name would be (Caddy's filter encoder filters them
// by key alike), without a zap.Field made for each. Each line has its
// own (one allocation), as a core may keep what it is given.
type lineObject struct {
	decision                    string
	status                      int
	user, provider, keyID, role string
	method                      string
	action, route               string
	tenant, database            string
	touched                     []authz.Touched
	reason, clientIP, requestID string

	buf   [1]authz.Touched // touched's room for one collection
	field [1]zap.Field     // the line's one field: the object itself
}

func (o *lineObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("decision", o.decision)
	enc.AddInt64("status", int64(o.status))
	addNonEmpty(enc, "user", o.user)
	addNonEmpty(enc, "provider", o.provider)
	addNonEmpty(enc, "key_id", o.keyID)
	addNonEmpty(enc, "role", o.role)
	enc.AddString("method", o.method)
	addNonEmpty(enc, "action", o.action)
	addNonEmpty(enc, "route", o.route)
	addNonEmpty(enc, "tenant", o.tenant)
	addNonEmpty(enc, "database", o.database)
	if err := addCollections(enc, o.touched); err != nil {
		return err
	}
	addNonEmpty(enc, "reason", o.reason)
	enc.AddString("client_ip", o.clientIP)
	addNonEmpty(enc, "request_id", o.requestID)
	return nil
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

func addNonEmpty(enc zapcore.ObjectEncoder, key, val string) {
	if val != "" {
		enc.AddString(key, val)
	}
}

// NewLogger is the audit's logger, `http.handlers.chroma_auth.audit`,
// made by Caddy for that name as for a module of its own (ctx.Logger's
// module argument): a log that excludes the audit (the default log, in the
// README's setup) is then left out of it at once, instead of filtering
// out every line it is offered, and a log that takes nothing else (the
// audit's own) is its only core, with no tee. A log with an include or
// exclude list still filters each line by its logger's name, as before:
// which logs get a line does not change (TestNewLoggerRoutes).
func NewLogger(ctx caddy.Context) *zap.Logger { return ctx.Logger(loggerModule{}) }

// loggerModule names the audit's logger for Caddy's logging (never
// registered: nothing loads it).
type loggerModule struct{}

func (loggerModule) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.chroma_auth." + Logger, New: func() caddy.Module { return loggerModule{} }}
}
