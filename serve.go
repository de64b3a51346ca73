package chromaauth

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// ServeHTTP lets public routes and authenticated, authorized requests
// through, and answers everything else itself: 401, 403, 429 or 503.
func (h *ChromaAuth) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// A browser's CORS preflight never carries credentials; Chroma
	// answers it from its cors_allow_origins without running anything.
	if authz.IsPreflight(r) || h.isPublic(r) {
		h.stripCredentials(r)
		d := authz.Decision{Verdict: authz.VerdictAllowed, Status: http.StatusOK, Public: true}
		return h.recordAfter(w, r, &d, func(w http.ResponseWriter) error { return next.ServeHTTP(w, r) })
	}
	pol := h.policy.Load()
	id, reason, retry, client := h.authenticate(r, pol.Creds)
	if id == nil {
		return h.reject(w, r, pol, reason, retry)
	}
	vars := &requestVars{id: id, role: pol.RoleOf(id), r: r, client: client}
	publishVars(r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer), vars)
	h.stripCredentials(r)
	t, done, err := h.admitQuota(w, r, pol, id)
	if done {
		return err
	}
	defer h.quota.Done(t)
	return h.authorizeAndServe(w, r, next, pol, vars)
}

func (h *ChromaAuth) stripCredentials(r *http.Request) {
	if h.ForwardCredentials {
		return
	}
	// Go's server canonicalizes header names: plain map deletes suffice.
	delete(r.Header, headerAuthorization)
	delete(r.Header, headerChromaToken)
}

// admitQuota applies id's quotas to r (see admission.Quotas.Admit). When
// it refuses, it has answered and done is true; else the caller ends the
// ticket when the request ends.
func (h *ChromaAuth) admitQuota(w http.ResponseWriter, r *http.Request, pol *config.Policy, id *providers.Identity) (t quota.Ticket, done bool, err error) {
	t, no := h.quota.Admit(r, pol.Creds, id)
	if no == nil {
		return t, false, nil
	}
	h.record(r, &no.D)
	if no.RetryAfter != "" {
		w.Header().Set("Retry-After", no.RetryAfter)
	}
	return t, true, writeJSON(w, no.D.Status, no.Body)
}

// DefaultPublic are the routes Chroma serves without credentials: its
// server's default exemption list, and the Rust server's healthcheck.
var DefaultPublic = authz.DefaultPublic

// isPublic reports whether r is a GET or HEAD of a public route, byte for
// byte (see authz.PublicPaths.Match, where the matching is fuzzed).
func (h *ChromaAuth) isPublic(r *http.Request) bool {
	return authz.PublicPaths(h.public).Match(r.Method, r.URL)
}

// requestVars answers the placeholders of an authenticated request:
//
//	{http.auth.user.id}         the user (as Caddy's own auth sets it; the access log's user_id)
//	{http.auth.user.tenant}     the user's tenant, "*" for all
//	{http.auth.user.databases}  the user's databases, comma-separated
//	{http.auth.user.role}       the user's role (RBAC file, else users file)
//	{http.auth.user.provider}   "basic", "token", "key", "jwt" or "cert"
//	{http.chroma_auth.action}   the route's Chroma action, e.g. collection:add
//	{http.chroma_auth.route}    the route's name, e.g. "v2 collection_add"
//
// It is one provider registered with the request's replacer, rather than
// seven values set on it: nothing is computed, or allocated, for the
// placeholders nobody reads, and the route is classified only if asked.
type requestVars struct {
	id    *providers.Identity
	role  string
	r     *http.Request
	route *authz.Route // nil until classified
	// client is the client address authentication counted the request
	// against ("" if it did not need it; see clientIP).
	client string
}

func (v *requestVars) get(key string) (any, bool) {
	switch key {
	case "http.auth.user.id":
		return v.id.User, true
	case "http.auth.user.tenant":
		return v.id.Tenant, true
	case "http.auth.user.databases":
		return strings.Join(v.id.Databases, ","), true
	case "http.auth.user.role":
		return v.role, true
	case "http.auth.user.provider":
		return v.id.Provider, true
	case "http.chroma_auth.action":
		return v.classified().Action, true
	case "http.chroma_auth.route":
		return v.classified().Name, true
	}
	return nil, false
}

// classified is the request's route. When the handler did not need it, it
// is worked out on first use from the method and path alone: a placeholder
// may be read after the proxy has copied the request, and must never read
// (and so empty) the body that Chroma receives. The action of a create is
// then db:create_collection even when the body asks get_or_create.
func (v *requestVars) classified() *authz.Route {
	if v.route == nil {
		rt := authz.ClassifyPath(v.r.Method, v.r.URL)
		v.route = &rt
	}
	return v.route
}

func publishVars(repl *caddy.Replacer, v *requestVars) {
	repl.Map(v.get)
}
