package chromaauth

import (
	"net/http"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
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
	id, reason, retry := h.authenticate(r, pol.Creds)
	if id == nil {
		return h.reject(w, r, pol, reason, retry)
	}
	vars := &requestVars{id: id, role: pol.RoleOf(id), r: r}
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
