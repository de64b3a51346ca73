package chromaauth

import (
	"errors"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/rowsproxy"
)

// nameMaxAge is how long a learned collection name is trusted for a
// grant decision by default (collection_name_ttl).
const nameMaxAge = config.DefaultCollectionNameTTL

// authorizeAndServe is the authorization half: decide, then act on the
// decision (answer, or forward).
func (h *ChromaAuth) authorizeAndServe(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, pol *config.Policy, vars *requestVars) error {
	id := vars.id
	if t, d, ok := listingWrite(r); ok {
		// After the write, whatever its answer: a filtered listing made
		// from now on lists the database again.
		defer h.listings.Drop(t, d)
	}
	var owners authz.OwnerResolver
	if authz.NeedsRoute(pol.RBAC, id) || id.Rows != nil {
		owners = h.ownerResolver(r, next, id)
	}
	d := h.decide(r, pol, vars, owners)
	d.Client = vars.client
	if h.auditLog != nil {
		d.Lookups = lookup.Detached(r, next, h.owners)
	}
	switch {
	case d.Verdict != authz.VerdictAllowed:
		return h.refuse(w, r, &d)
	case d.Route == nil && authz.IsIdentityRequest(r), d.Route != nil && d.Route.Identity:
		return h.answerIdentity(w, r, &d)
	case d.Filtered:
		return h.serveFiltered(w, r, next, &d)
	case id.Rows != nil:
		// a copy: rows keeps it past this call (rowsproxy.Result), which
		// would move every request's decision to the heap
		rd := d
		return h.serveRows(w, r, next, &rd)
	}
	return h.forward(w, r, next, &d)
}

// decide judges an authenticated request. A caller of every tenant,
// database and collection, without RBAC and rows, needs none of it but
// the identity answer, so its route is not even classified (d.Route is
// nil). Anyone else's request is classified once (reading the body at
// most once, when the route's action or scope is in it) and judged by
// authz.Decide with the request's one policy snapshot, owners resolving
// the collections it names by id; then by the identity's rows, as far as
// they can judge before the body streams. `caddy chroma-auth explain`
// decides with this same function.
func (h *ChromaAuth) decide(r *http.Request, pol *config.Policy, vars *requestVars, owners authz.OwnerResolver) authz.Decision {
	id := vars.id
	if !authz.NeedsRoute(pol.RBAC, id) && id.Rows == nil {
		d := authz.Decide(r.Context(), nil, id, nil, nil)
		if r.Method == http.MethodPut {
			// The one route of such a caller that is classified, by its
			// path alone (the body is never read): a collection update
			// may rename it, which changes what grants judge other
			// callers by, so its name is looked up again.
			rt := authz.ClassifyPath(r.Method, r.URL)
			d = authz.Decide(r.Context(), nil, id, &rt, nil)
			d.Route = nil // audited by its path, as any of this caller's
		}
		return d
	}
	if id.Scoped() && !h.NoSingletonOverwrite {
		authz.OverwriteSingleton(r, id)
	}
	rt, err := authz.Classify(r)
	vars.route = &rt
	if err != nil {
		d := authz.BadBody(id, &rt, err)
		d.Rule.Role = vars.role
		return d
	}
	d := authz.Decide(r.Context(), pol.RBAC, id, &rt, owners)
	if d.Verdict == authz.VerdictAllowed && id.Rows != nil && !rt.Identity && !d.Filtered {
		if reason := rowsproxy.Verdict(id, &rt); reason != "" {
			d.Verdict, d.Status, d.Reason, d.Rule.Check = authz.VerdictRefused, http.StatusForbidden, reason, "rows"
		}
	}
	return d
}

// ownerResolver resolves the collections a request names by id with
// lookups through the rest of the chain (see lookup.Fetcher), waiting
// for the one lookup in flight. A caller with collection grants gets names
// no older than collection_name_ttl.
func (h *ChromaAuth) ownerResolver(r *http.Request, next caddyhttp.Handler, id *providers.Identity) authz.OwnerResolver {
	var maxAge time.Duration
	if id.Collections != nil {
		maxAge = nameMaxAge
		if h.CollectionNameTTL > 0 {
			maxAge = time.Duration(h.CollectionNameTTL)
		}
	}
	return &lookup.Resolver{Shared: h.resolver, Fetcher: lookup.Fetcher{Owners: h.owners, R: r, Next: next}, MaxAge: maxAge}
}

// Answers of the gateway itself when it cannot decide.
var (
	bodyLookupUnavailable = []byte(`{"error":"ServiceUnavailable","message":"Chroma did not answer the gateway's collection lookup; retry shortly"}`)
	bodyTooLarge          = []byte(`{"error":"InvalidArgumentError","message":"Request body too large for the gateway to inspect"}`)
)

// refuse answers a request the decision did not allow: 403 for a
// refusal, 503 with Retry-After when the upstream did not answer a lookup
// the decision needed (never a 403 that blames the caller), 400 or 413
// for a body or query the gateway cannot judge as sent.
func (h *ChromaAuth) refuse(w http.ResponseWriter, r *http.Request, d *authz.Decision) error {
	h.record(r, d)
	switch d.Verdict {
	case authz.VerdictRefused:
		return writeJSON(w, http.StatusForbidden, jsonError("AuthorizationError", "Forbidden: "+d.Reason))
	case authz.VerdictBadBody:
		switch {
		case d.Status == http.StatusRequestEntityTooLarge:
			return writeJSON(w, d.Status, bodyTooLarge)
		case errors.Is(d.Err, authz.ErrBadBody) || d.Err == nil:
			return writeJSON(w, http.StatusBadRequest, jsonError("InvalidArgumentError", d.Detail))
		}
		return writeJSON(w, http.StatusBadRequest, jsonError("InvalidArgumentError", "Unreadable request body"))
	}
	w.Header().Set("Retry-After", "2")
	return writeJSON(w, http.StatusServiceUnavailable, bodyLookupUnavailable)
}

// serveRows acts on the allowed request of an identity with rows: see
// rowsproxy, which rewrites it as it streams or answers it from filtered
// gets, and says what it did, to be recorded here.
func (h *ChromaAuth) serveRows(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, d *authz.Decision) error {
	res := rowsproxy.Serve(w, r, next, d, h.owners)
	switch res.Kind {
	case rowsproxy.Forward:
		return h.forward(w, r, next, d)
	case rowsproxy.Refuse:
		return h.refuse(w, r, res.D)
	case rowsproxy.Answer:
		h.record(r, res.D)
		return writeJSON(w, res.Status, res.Body)
	}
	h.record(r, res.D)
	return res.Err
}

// answerIdentity answers GET /api/v2/auth/identity for the caller.
func (h *ChromaAuth) answerIdentity(w http.ResponseWriter, r *http.Request, d *authz.Decision) error {
	h.record(r, d)
	return writeJSON(w, http.StatusOK, authz.IdentityBody(d.Identity))
}
