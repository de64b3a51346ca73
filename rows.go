package chromaauth

import (
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// Row-level security: an identity with rows (users file `rows:`, a key's
// --rows, jwt rows_claims) sees and changes only the records whose
// metadata holds each of its keys with its value. Its requests on records
// are rewritten as they stream (rows_body.go); count is answered from a
// filtered get and updates and upserts are checked first
// (rows_upstream.go); what could touch other identities' records whole is
// refused.

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

// The 403 messages of requests an identity's rows refuse.
const (
	rowsRefusal        = "rows"
	rowsRefusedWhole   = "rows: the operation acts on other identities' records"
	rowsRefusedRecord  = "rows: a record of another identity, or a row key set to another value"
	rowsCompressedBody = "compressed body"
)

// rowsVerdict is why an identity with rows may not make the request rt,
// as far as the route tells (the records a body names are checked as it
// streams): "" when it may.
func rowsVerdict(id *providers.Identity, rt *authz.Route) string {
	if _, err := rows.New(id.Rows); err != nil {
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

// serveRows serves a request of an identity with rows that the decision
// allowed (rowsRefusal found nothing against it).
func (h *ChromaAuth) serveRows(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, vars *requestVars, d *authz.Decision) error {
	id, rt := d.Identity, *d.Route
	f, err := rows.New(id.Rows)
	if err != nil { // a loader let a bad map through: refuse, never widen
		return h.refuseRows(w, r, d, rowsRefusal)
	}
	if op, ok := rowsOps[rt.Name]; ok {
		return h.serveRewritten(w, r, next, d, op, f)
	}
	if rt.Name == "v2 collection_count" {
		return h.serveRowsCount(w, r, next, d, f)
	}
	return h.forward(w, r, next, d)
}

// refuseRows turns d into the refusal of the identity's rows.
func (h *ChromaAuth) refuseRows(w http.ResponseWriter, r *http.Request, d *authz.Decision, reason string) error {
	d.Verdict, d.Status, d.Reason, d.Rule.Check = authz.VerdictRefused, http.StatusForbidden, reason, "rows"
	return h.refuse(w, r, d)
}
