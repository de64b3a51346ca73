package chromaauth

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// maxOwners bounds how many collection ids the gateway remembers the
// tenant, database and name of.
const maxOwners = 100000

// nameMaxAge is how long a learned collection name is trusted for a
// grant decision by default (collection_name_ttl): a rename made on Chroma
// directly or through another gateway is seen within it.
const nameMaxAge = 10 * time.Second

// authorizeAndServe is the authorization half. A caller of every tenant,
// database and collection, without RBAC, needs none of it but the identity
// answer, so its route is not even classified. Anyone else's request is
// classified once (reading the body at most once, when the route's action
// or scope is in it) and judged by the request's one policy snapshot:
// first the checks that need nothing but the request (scope, RBAC, grants
// on names), so a request the role already refuses costs no upstream call;
// then the collections it names by id, whose owner and name may need one
// shared lookup upstream.
func (h *ChromaAuth) authorizeAndServe(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, pol *policy, vars *requestVars) error {
	id := vars.id
	if t, d, ok := listingWrite(r); ok {
		// After the write, whatever its answer: a filtered listing made
		// from now on lists the database again.
		defer h.listings.Drop(t, d)
	}
	h.auditNote(r, vars)
	scoped := id.Scoped()
	if pol.rbac == nil && !scoped {
		if authz.IsIdentityRequest(r) {
			h.auditAnswered(r, vars, http.StatusOK)
			return answerIdentity(w, id)
		}
		countRequest(resultAllowed)
		next = h.auditAllowed(r, next, vars)
		if r.Method == http.MethodPut {
			// The one route of such a caller that is classified: a
			// rename changes what grants judge other callers by.
			if rt, err := authz.Classify(r); err == nil {
				return h.forward(w, r, next, rt, false)
			}
		}
		return next.ServeHTTP(w, r)
	}
	if scoped && !h.NoSingletonOverwrite {
		authz.OverwriteSingleton(r, id)
	}
	rt, err := authz.Classify(r)
	vars.route = &rt
	if err != nil {
		return h.refuseBody(w, r, id, err)
	}
	if rt.Identity {
		h.auditAnswered(r, vars, http.StatusOK)
		return answerIdentity(w, id)
	}
	if err := h.checkRequest(pol, id, rt); err != nil {
		return h.refuse(w, r, id, err)
	}
	if scoped {
		if err := h.checkCollectionIDs(r, next, id, &rt); err != nil {
			return h.refuse(w, r, id, err)
		}
	}
	if authz.Filtered(id, rt) {
		return h.serveFiltered(w, r, next, id, rt)
	}
	countRequest(resultAllowed)
	next = h.auditAllowed(r, next, vars)
	return h.forward(w, r, next, rt, scoped)
}

// checkRequest runs the checks that need nothing but the request: scope,
// RBAC and the collection grants of what the route names by name.
func (h *ChromaAuth) checkRequest(pol *policy, id *providers.Identity, rt authz.Route) error {
	if err := authz.CheckScope(id, rt); err != nil {
		return err
	}
	if pol.rbac != nil {
		if err := pol.rbac.Authorize(id, rt); err != nil {
			return err
		}
	}
	return authz.CheckGrants(id, rt)
}

// checkCollectionIDs makes sure every collection the route names by id (in
// its path, or in its body) lives in the tenant and database of the path,
// and that the caller's grants cover it. Chroma 1.x looks such collections
// up by id alone, so without this a user of one tenant who learns another
// tenant's collection id could use it through its own path. What the
// gateway does not know yet it looks up upstream, waiting for the one
// lookup in flight.
func (h *ChromaAuth) checkCollectionIDs(r *http.Request, next caddyhttp.Handler, id *providers.Identity, rt *authz.Route) error {
	if !rt.CollectionByID && len(rt.BodyIDs) == 0 {
		return nil
	}
	f := &proxyFetcher{h: h, r: r, next: next}
	var maxAge time.Duration
	if id.Collections != nil {
		maxAge = nameMaxAge
		if h.CollectionNameTTL > 0 {
			maxAge = time.Duration(h.CollectionNameTTL)
		}
	}
	if rt.CollectionByID {
		w, err := h.resolver.Resolve(r.Context(), f, rt.Tenant, rt.Database, rt.Collection, maxAge)
		if err != nil {
			return err
		}
		rt.CollectionName = w.Name
		if err := authz.CheckGrantsOwner(id, *rt, rt.Collection, w, false); err != nil {
			return err
		}
	}
	for _, bodyID := range rt.BodyIDs {
		w, err := h.resolver.Resolve(r.Context(), f, rt.Tenant, rt.Database, bodyID, maxAge)
		if err != nil {
			return err
		}
		if err := authz.CheckGrantsOwner(id, *rt, bodyID, w, true); err != nil {
			return err
		}
	}
	return nil
}

// Answers of the gateway itself when it cannot decide.
var (
	bodyLookupUnavailable = []byte(`{"error":"ServiceUnavailable","message":"Chroma did not answer the gateway's collection lookup; retry shortly"}`)
	bodyTooLarge          = []byte(`{"error":"InvalidArgumentError","message":"Request body too large for the gateway to inspect"}`)
)

// refuse answers a request the checks did not pass: 403 for a refusal,
// 503 with Retry-After when the upstream did not answer a lookup the
// decision needed (never a 403 that blames the caller).
func (h *ChromaAuth) refuse(w http.ResponseWriter, r *http.Request, id *providers.Identity, err error) error {
	var d *authz.Denied
	if errors.As(err, &d) {
		if d.Detail != "" {
			h.logger.Debug("collection grant refused", zap.String("user", id.User), zap.String("detail", d.Detail))
		}
		return h.forbid(w, r, id, d.Reason)
	}
	h.logger.Warn("cannot look up a collection's owner upstream", zap.Error(err))
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set("http.auth.chroma_auth.reason", reasonLookupUnavailable)
	h.auditAfterAuth(r, id.User, decisionBusy, http.StatusServiceUnavailable, reasonLookupUnavailable)
	countDenied(reasonLookupUnavailable)
	countRequest(resultBusy)
	w.Header().Set("Retry-After", "2")
	return writeJSON(w, http.StatusServiceUnavailable, bodyLookupUnavailable)
}

// refuseBody answers a request whose body the gateway needed but could
// not use: too large (413), unreadable, or not what the route takes (400).
func (h *ChromaAuth) refuseBody(w http.ResponseWriter, r *http.Request, id *providers.Identity, err error) error {
	if errors.Is(err, authz.ErrBodyTooLarge) {
		return h.badRequest(w, r, id, reasonBodyTooLarge, http.StatusRequestEntityTooLarge, bodyTooLarge, err.Error())
	}
	msg := "Unreadable request body"
	if errors.Is(err, authz.ErrBadBody) {
		msg = err.Error()
	}
	return h.badRequest(w, r, id, reasonBadBody, http.StatusBadRequest, jsonError("InvalidArgumentError", msg), err.Error())
}

// badRequest answers an authenticated request the gateway cannot judge as
// sent (400, 413): logged, audited and counted like every refusal, as
// result bad_request, apart from the 401s of `denied`.
func (h *ChromaAuth) badRequest(w http.ResponseWriter, r *http.Request, id *providers.Identity, reason string, status int, body []byte, detail string) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set("http.auth.chroma_auth.reason", reason)
	h.logDenied(r, reason, id, detail)
	h.auditAfterAuth(r, id.User, decisionBadRequest, status, reason)
	countDenied(reason)
	countRequest(resultBadRequest)
	return writeJSON(w, status, body)
}

// answerIdentity answers GET /api/v2/auth/identity for the caller.
func answerIdentity(w http.ResponseWriter, id *providers.Identity) error {
	countRequest(resultAllowed)
	return writeJSON(w, http.StatusOK, authz.IdentityBody(id))
}
