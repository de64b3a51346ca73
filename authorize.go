package chromaauth

import (
	"context"
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
// or scope is in it) and judged by authz.Decide with the request's one
// policy snapshot; the handler then acts on the decision.
func (h *ChromaAuth) authorizeAndServe(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, pol *policy, vars *requestVars) error {
	id := vars.id
	if t, d, ok := listingWrite(r); ok {
		// After the write, whatever its answer: a filtered listing made
		// from now on lists the database again.
		defer h.listings.Drop(t, d)
	}
	h.auditNote(r, vars)
	if !authz.NeedsRoute(pol.rbac, id) && id.Rows == nil {
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
				d := authz.Decide(r.Context(), nil, id, &rt, nil)
				return h.forward(w, r, next, &d)
			}
		}
		return next.ServeHTTP(w, r)
	}
	if id.Scoped() && !h.NoSingletonOverwrite {
		authz.OverwriteSingleton(r, id)
	}
	rt, err := authz.Classify(r)
	vars.route = &rt
	if err != nil {
		return h.refuseBody(w, r, id, err)
	}
	d := authz.Decide(r.Context(), pol.rbac, id, &rt, h.ownerResolver(r, next, id))
	switch {
	case d.Verdict != authz.VerdictAllowed:
		return h.refuse(w, r, &d)
	case rt.Identity:
		h.auditAnswered(r, vars, http.StatusOK)
		return answerIdentity(w, id)
	case d.Filtered:
		return h.serveFiltered(w, r, next, id, rt)
	}
	if id.Rows != nil {
		return h.serveRows(w, r, next, vars, &d)
	}
	countRequest(resultAllowed)
	next = h.auditAllowed(r, next, vars)
	return h.forward(w, r, next, &d)
}

// ownerResolver resolves the collections a request names by id with
// lookups through the rest of the chain (see proxyFetcher), waiting for
// the one lookup in flight. A caller with collection grants gets names no
// older than collection_name_ttl.
func (h *ChromaAuth) ownerResolver(r *http.Request, next caddyhttp.Handler, id *providers.Identity) authz.OwnerResolver {
	var maxAge time.Duration
	if id.Collections != nil {
		maxAge = nameMaxAge
		if h.CollectionNameTTL > 0 {
			maxAge = time.Duration(h.CollectionNameTTL)
		}
	}
	return &proxyResolver{h: h, f: proxyFetcher{h: h, r: r, next: next}, maxAge: maxAge}
}

// proxyResolver is the gateway's authz.OwnerResolver.
type proxyResolver struct {
	h      *ChromaAuth
	f      proxyFetcher
	maxAge time.Duration
}

func (p *proxyResolver) Resolve(ctx context.Context, tenant, database, id string) (authz.Owner, error) {
	return p.h.resolver.Resolve(ctx, &p.f, tenant, database, id, p.maxAge)
}

// Answers of the gateway itself when it cannot decide.
var (
	bodyLookupUnavailable = []byte(`{"error":"ServiceUnavailable","message":"Chroma did not answer the gateway's collection lookup; retry shortly"}`)
	bodyTooLarge          = []byte(`{"error":"InvalidArgumentError","message":"Request body too large for the gateway to inspect"}`)
)

// refuse answers a request the decision did not allow: 403 for a
// refusal, 503 with Retry-After when the upstream did not answer a lookup
// the decision needed (never a 403 that blames the caller).
func (h *ChromaAuth) refuse(w http.ResponseWriter, r *http.Request, d *authz.Decision) error {
	if d.Verdict == authz.VerdictRefused {
		if d.Detail != "" {
			h.logger.Debug("collection grant refused", zap.String("user", d.Identity.User), zap.String("detail", d.Detail))
		}
		return h.forbid(w, r, d.Identity, d.Reason)
	}
	h.logger.Warn("cannot look up a collection's owner upstream", zap.Error(d.Err))
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set("http.auth.chroma_auth.reason", reasonLookupUnavailable)
	h.auditAfterAuth(r, d.Identity.User, decisionBusy, http.StatusServiceUnavailable, reasonLookupUnavailable)
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
