package chromaauth

import (
	"net/http"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// ServeHTTP lets public routes and authenticated, authorized requests
// through, and answers everything else itself: 401, 403, 429 or 503.
func (h *ChromaAuth) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if authz.IsPreflight(r) {
		// A browser's CORS preflight never carries credentials; Chroma
		// answers it from its cors_allow_origins without running anything.
		h.stripCredentials(r)
		countRequest(resultPublic)
		return h.auditPublic(next).ServeHTTP(w, r)
	}
	if h.isPublic(r) {
		h.stripCredentials(r)
		countRequest(resultPublic)
		return h.auditPublic(next).ServeHTTP(w, r)
	}
	pol := h.policy.Load()
	id, reason, retry := h.authenticate(r, pol.creds)
	if id == nil {
		return h.reject(w, r, pol, reason, retry)
	}
	vars := &requestVars{id: id, role: pol.roleOf(id), r: r}
	publishVars(r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer), vars)
	h.stripCredentials(r)
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
