// Package rowsproxy serves the requests of an identity with row-level
// security through the rest of the Caddy chain. An identity with rows
// (users file `rows:`, a key's --rows, jwt rows_claims) sees and changes
// only the records whose metadata holds each of its keys with its value.
// Its requests on records are rewritten as they stream (body.go); count
// is answered from a filtered get and updates and upserts are checked
// first (upstream.go); what could touch other identities' records whole
// is refused (Verdict, which the decision asks).
//
// Serve does the work and says what it did (a Result); the handler
// records the decision and, when the gateway answers, answers.
package rowsproxy

import (
	"encoding/json"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// rowsOps maps the record routes to how their bodies are rewritten.
var rowsOps = map[string]rows.Op{
	"v2 collection_get":     rows.Where,
	"v2 collection_query":   rows.Where,
	"v2 conditional_get":    rows.Where,
	"v2 collection_delete":  rows.Delete,
	"v2 collection_search":  rows.Search,
	"v2 collection_add":     rows.Add,
	"v2 collection_upsert":  rows.Upsert,
	"v2 collection_update":  rows.Update,
	"v2 conditional_commit": rows.Commit,
}

// rowsRefused are the actions an identity with rows may not take: they act
// on the whole collection (or more), other identities' records included,
// or on records by a route the gateway does not filter (v1, indexing
// status).
var rowsRefused = map[string]bool{
	authz.ActionReset: true, authz.ActionDeleteDatabase: true,
	authz.ActionUpdateCollection: true, authz.ActionDeleteCollection: true, authz.ActionForkCollection: true,
	authz.ActionCreateAttachedFunction: true, authz.ActionRemoveAttachedFunction: true,
	// record actions: allowed only on the routes of rowsOps and count
	authz.ActionAdd: true, authz.ActionUpdate: true, authz.ActionUpsert: true, authz.ActionDelete: true,
	authz.ActionGet: true, authz.ActionQuery: true, authz.ActionSearch: true, authz.ActionCount: true,
}

// The 403 messages (the decision's reason) of requests an identity's
// rows refuse.
const (
	rowsRefusal        = "rows"
	rowsRefusedWhole   = "rows: the operation acts on other identities' records"
	rowsRefusedRecord  = "rows: a record of another identity, or a row key set to another value"
	rowsCompressedBody = "compressed body"
)

// Verdict is why an identity with rows may not make the request rt,
// as far as the route tells (the records a body names are checked as it
// streams): "" when it may.
func Verdict(id *providers.Identity, rt *authz.Route) string {
	if _, err := rows.For(id.Rows); err != nil {
		return rowsRefusal // a loader let a bad map through: refuse, never widen
	}
	if _, ok := rowsOps[rt.Name]; ok || rt.Name == "v2 collection_count" {
		return ""
	}
	for _, a := range rt.Actions() {
		if rowsRefused[a] {
			return rowsRefusedWhole
		}
	}
	return ""
}

// Kind is what Serve did.
type Kind int

const (
	// Forward: the route is no record route the rows rewrite; the handler
	// forwards the request as anyone's.
	Forward Kind = iota
	// Served: the upstream's answer went to the client; D.Status is its
	// status, Err the chain's error. The handler records D.
	Served
	// Answer: the gateway answers Status with the JSON Body; the handler
	// records D and writes it.
	Answer
	// Refuse: the handler refuses D (its verdict says how).
	Refuse
)

// Result is what Serve did, for the handler to record and act on.
type Result struct {
	Kind   Kind
	D      *authz.Decision
	Status int
	Body   []byte
	Err    error
}

// Serve serves a request of an identity with rows that the decision d
// allowed (Verdict found nothing against it), asking the upstream through
// next what it needs to know (owners learns from the answers).
func Serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, d *authz.Decision, owners *authz.Owners) Result {
	id, rt := d.Identity, *d.Route
	f, err := rows.For(id.Rows)
	if err != nil { // a loader let a bad map through: refuse, never widen
		return refuse(d, rowsRefusal)
	}
	p := &proxy{r: r, next: next, owners: owners} // stays on the stack (see serveRewritten)
	if op, ok := rowsOps[rt.Name]; ok {
		return p.serveRewritten(w, d, op, f)
	}
	if rt.Name == "v2 collection_count" {
		return p.serveCount(d, f)
	}
	return Result{Kind: Forward, D: d}
}

// proxy is one request's way to the upstream.
type proxy struct {
	r      *http.Request
	next   caddyhttp.Handler
	owners *authz.Owners
}

// refuse turns d into the refusal of the identity's rows.
func refuse(d *authz.Decision, reason string) Result {
	d.Verdict, d.Status, d.Reason, d.Rule.Check = authz.VerdictRefused, http.StatusForbidden, reason, "rows"
	return Result{Kind: Refuse, D: d}
}

// badRequest is the gateway's answer to a request it cannot filter as
// sent.
func badRequest(d *authz.Decision, status int, body []byte, detail string) Result {
	bad := *d
	bad.Verdict, bad.Status, bad.Reason, bad.Detail = authz.VerdictBadBody, status, "bad_body", detail
	return Result{Kind: Answer, D: &bad, Status: status, Body: body}
}

// jsonError is a body in Chroma's error shape.
func jsonError(name, message string) []byte {
	b, _ := json.Marshal(map[string]string{"error": name, "message": message})
	return b
}
