package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// ExitUsage is the exit status of explain and test on a usage or config
// error (ExitOK: allowed, or every case holds; ExitFailed: refused, or a
// case fails).
const ExitUsage = 2

// ErrNotAllowed is explain's error when the request is not allowed.
var ErrNotAllowed = errors.New("explain: the gateway would not let this request through")

// ErrNeedsUpstream is explain's error when the decision needs Chroma's
// answer and no --upstream was given.
var ErrNeedsUpstream = errors.New("explain: the decision needs Chroma's answer: give --upstream <Chroma URL>")

// As is the caller a request is explained for: exactly one of a user of
// the credential files (no password needed), a token, an API key or a JWT.
type As struct {
	User  string `yaml:"user"`
	Token string `yaml:"token"`
	Key   string `yaml:"key"`
	JWT   string `yaml:"jwt"`
}

func (a As) check() error {
	n := 0
	for _, v := range []string{a.User, a.Token, a.Key, a.JWT} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("give exactly one of --user, --token, --key or --jwt")
	}
	return nil
}

// Request is a request to explain.
type Request struct {
	Method, Path string
	Body         []byte
}

// Explanation is the gateway's decision on a request and what the
// explainer could not know.
type Explanation struct {
	Decision authz.Decision
	// Route is the classified request (from the path alone for a caller
	// whose requests the gateway does not classify).
	Route *authz.Route
	// Unknown says what the decision needed from Chroma that the
	// explainer did not ask (no upstream).
	Unknown []string
}

// Allowed reports whether the gateway lets the request through.
func (x *Explanation) Allowed() bool { return x.Decision.Verdict == authz.VerdictAllowed }

// Explainer decides requests as one chroma_auth handler would.
type Explainer interface {
	Explain(ctx context.Context, as As, req Request) (Explanation, error)
	Close()
}

// OpenExplainer loads one chroma_auth handler's JSON into an Explainer
// that asks upstream (a Chroma URL; "" for none) what by-id decisions
// need.
type OpenExplainer func(raw json.RawMessage, upstream string) (Explainer, error)

// ExplainOptions are the inputs of RunExplain.
type ExplainOptions struct {
	Config, Adapter, Site, Upstream string
	As                              As
	Args                            []string // METHOD path
	Body                            string
	Open                            OpenExplainer
}

// RunExplain runs `caddy chroma-auth explain`: it prints the decision on
// one request and why. Exit 0 when allowed, 1 when not, 2 on a usage or
// config error.
func RunExplain(rw IO, o ExplainOptions) (int, error) {
	if len(o.Args) != 2 {
		return ExitUsage, errors.New("explain: want <METHOD> <path>, such as GET /api/v2/tenants/t/databases/d/collections")
	}
	if err := o.As.check(); err != nil {
		return ExitUsage, fmt.Errorf("explain: %w", err)
	}
	ex, where, err := openSite(o.Config, o.Adapter, o.Site, o.Upstream, o.Open)
	if err != nil {
		return ExitUsage, fmt.Errorf("explain: %w", err)
	}
	defer ex.Close()
	req := Request{Method: strings.ToUpper(o.Args[0]), Path: o.Args[1], Body: []byte(o.Body)}
	x, err := ex.Explain(context.Background(), o.As, req)
	if err != nil {
		return ExitUsage, fmt.Errorf("explain: %w", err)
	}
	fmt.Fprintf(rw.Stdout, "handler: %s\n", where)
	x.Write(rw.Stdout)
	if len(x.Unknown) > 0 {
		return ExitFailed, ErrNeedsUpstream
	}
	if !x.Allowed() {
		return ExitFailed, ErrNotAllowed
	}
	return ExitOK, nil
}

// Write prints the decision and why, one fact a line.
func (x *Explanation) Write(w io.Writer) {
	d := &x.Decision
	if len(x.Unknown) > 0 {
		fmt.Fprintf(w, "decision: not known without Chroma (the gateway would ask it; see unknown)\n")
	} else {
		fmt.Fprintf(w, "decision: %s (%d)\n", d.Verdict, d.Status)
	}
	switch {
	case d.Public:
		fmt.Fprintf(w, "why: a public route (or a CORS preflight): no credential needed\n")
		return
	case d.Identity == nil:
		fmt.Fprintf(w, "why: the credential did not authenticate (%s)\n", d.Reason)
		return
	}
	if d.Reason != "" && len(x.Unknown) == 0 {
		fmt.Fprintf(w, "why: %s\n", d.Reason)
		if d.Err != nil {
			fmt.Fprintf(w, "error: %v\n", d.Err)
		}
	}
	id, rule := d.Identity, d.Rule
	fmt.Fprintf(w, "caller: %s (%s)%s\n", id.User, id.Provider, ifSet(", configured at ", rule.Entry))
	if id.KeyID != "" {
		fmt.Fprintf(w, "key: %s\n", id.KeyID)
	}
	fmt.Fprintf(w, "scope: tenant %s, databases %s\n", rule.Tenant, strings.Join(rule.Databases, ","))
	if rule.RBAC != "" {
		fmt.Fprintf(w, "role: %s (RBAC file %s)\n", orNone(rule.Role), rule.RBAC)
	} else {
		fmt.Fprintf(w, "role: %s (RBAC off: every action its scope allows)\n", orNone(rule.Role))
	}
	if rt := x.Route; rt != nil {
		fmt.Fprintf(w, "route: %s%s%s\n", orUnknown(rt.Name), ifSet(", action ", strings.Join(rt.Actions(), " ")), routeScope(rt))
	}
	if rule.Collection != "" {
		fmt.Fprintf(w, "grant: collection %q: %s; the route needs %s\n", rule.Collection, grantText(rule), rule.Need)
	}
	if rule.Check != "" {
		fmt.Fprintf(w, "refused by: %s\n", checkText(rule))
	}
	for _, t := range touched(d) {
		fmt.Fprintf(w, "touches: %s\n", t)
	}
	if d.Filtered {
		fmt.Fprintf(w, "answer: the gateway lists only the collections the caller may read\n")
	}
	if len(id.Rows) > 0 && d.Verdict == authz.VerdictAllowed {
		fmt.Fprintf(w, "rows: only records whose metadata holds %s (a body is checked as it streams)\n", rowsText(id.Rows))
	}
	for _, u := range x.Unknown {
		fmt.Fprintf(w, "unknown: %s\n", u)
	}
}

func routeScope(rt *authz.Route) string {
	var s string
	if rt.Tenant != "" {
		s += ", tenant " + rt.Tenant
	}
	if rt.Database != "" {
		s += ", database " + rt.Database
	}
	return s
}

func grantText(r authz.Rule) string {
	switch r.Grant {
	case "":
		return "no grant matches it"
	case "*":
		return "no collection grants (every collection)"
	}
	return fmt.Sprintf("grant %q gives %s", r.Grant, r.Level)
}

func checkText(r authz.Rule) string {
	switch r.Check {
	case "scope":
		return "scope (the tenant or database is outside the caller's)"
	case "rbac":
		return fmt.Sprintf("rbac (role %s lacks action %s)", orNone(r.Role), r.Action)
	case "grant":
		return "grant (collection grants)"
	case "owner":
		if r.Collection != "" {
			return "owner (collection grants, judged by the name Chroma gives the id)"
		}
		return "owner (the collection named by id is not in the path's tenant and database)"
	case "rows":
		return "rows (row-level security)"
	}
	return r.Check
}

func touched(d *authz.Decision) []string {
	var out []string
	for _, t := range d.Collections() {
		var s string
		switch {
		case t.ID != "" && t.Name != "":
			s = fmt.Sprintf("collection %q (id %s)", t.Name, t.ID)
		case t.ID != "":
			s = fmt.Sprintf("collection id %s (name not known)", t.ID)
		default:
			s = fmt.Sprintf("collection %q", t.Name)
		}
		if t.New {
			s += ", a name the body asks for"
		}
		if t.InBody {
			s += ", named in the body"
		}
		out = append(out, s)
	}
	return out
}

func rowsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ", ")
}

func ifSet(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "(a route the gateway does not know)"
	}
	return s
}
