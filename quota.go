package chromaauth

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/audit"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// quotaState is what a handler counts its quotas with.
type quotaState struct {
	block     quota.Limits
	perTenant bool
	engine    quota.Engine
}

// provisionQuota sets up the quotas; any handler has them, as a users
// file may give users limits without a limits block.
func (h *ChromaAuth) provisionQuota() {
	h.quota = new(quotaState)
	if h.Limits != nil {
		h.quota.block, h.quota.perTenant = h.Limits.Limits, h.Limits.PerTenant
	}
}

// limitsOf are id's limits: the block's, replaced by its user's own, then
// tightened by its credential's (an API key's, a JWT's).
func (q *quotaState) limitsOf(creds *providers.Credentials, id *providers.Identity) quota.Limits {
	return quota.Min(quota.Override(q.block, creds.UserLimits(id.User)), id.Limits)
}

// keyOf is what id's rate and concurrency count against.
func (q *quotaState) keyOf(id *providers.Identity) quota.Key {
	switch {
	case q.perTenant && !id.AllTenants():
		return quota.Key{Kind: quota.KindTenant, Name: id.Tenant}
	case id.KeyID != "":
		return quota.Key{Kind: quota.KindKey, Name: id.KeyID}
	}
	return quota.Key{Kind: quota.KindUser, Name: id.User}
}

// admitQuota applies id's quotas to r. When it refuses, it has answered
// and done is true; else the caller ends the ticket when the request ends.
func (h *ChromaAuth) admitQuota(w http.ResponseWriter, r *http.Request, pol *config.Policy, id *providers.Identity) (t quota.Ticket, done bool, err error) {
	q := h.quota
	l := q.limitsOf(pol.Creds, id)
	if l.IsZero() {
		return t, false, nil
	}
	t, why, wait := q.engine.Admit(q.keyOf(id), l)
	if why != "" {
		return t, true, h.refuseQuota(w, r, id, why, wait)
	}
	if l.Sized() {
		if op := quota.OpOf(r); quota.Applies(op, l) {
			if v := quota.Check(r, op, l); v != nil {
				q.engine.Done(t)
				return t, true, h.refuseSize(w, r, id, v)
			}
		}
	}
	return t, false, nil
}

// Denial reasons of the quotas.
const (
	reasonQuotaRate       = "quota_rate"
	reasonQuotaConcurrent = "quota_concurrent"
	reasonQuotaSize       = "quota_size"
)

// refuseQuota answers 429 with Retry-After and Chroma's RateLimitError.
func (h *ChromaAuth) refuseQuota(w http.ResponseWriter, r *http.Request, id *providers.Identity, why quota.Reason, wait time.Duration) error {
	reason, msg := reasonQuotaRate, "Too many requests: over the gateway's rate limit; retry later"
	if why == quota.ReasonConcurrent {
		reason, msg = reasonQuotaConcurrent, "Too many requests at once: over the gateway's concurrent limit; retry later"
	}
	d := authz.Decision{Verdict: authz.VerdictLimited, Status: http.StatusTooManyRequests, Reason: reason, Identity: id}
	h.record(r, &d)
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(wait.Seconds(), 1)))))
	return writeJSON(w, http.StatusTooManyRequests, jsonError("RateLimitError", msg))
}

// refuseSize answers a request over a size limit: 400 with Chroma's
// QuotaError naming the limit (413 for a body too large to check).
func (h *ChromaAuth) refuseSize(w http.ResponseWriter, r *http.Request, id *providers.Identity, v *quota.Violation) error {
	status := http.StatusBadRequest
	if v.Limit == "" {
		status = http.StatusRequestEntityTooLarge
	}
	d := authz.Decision{Verdict: authz.VerdictBadBody, Status: status, Reason: reasonQuotaSize, Detail: v.Message(), Identity: id}
	h.record(r, &d)
	return writeJSON(w, status, jsonError("QuotaError", v.Message()))
}

// quotaOutcome is the outcome of a quota's refusal (ok false for any
// other decision): a rate or concurrency limit is rate_limited with its
// own reason; a size limit is quota_exceeded.
func quotaOutcome(d *authz.Decision) (o outcome, ok bool) {
	switch d.Reason {
	case reasonQuotaRate, reasonQuotaConcurrent:
		return outcome{resultRateLimited, audit.DecisionRateLimited, d.Reason}, d.Verdict == authz.VerdictLimited
	case reasonQuotaSize:
		return outcome{resultQuota, audit.DecisionQuota, d.Reason}, d.Verdict == authz.VerdictBadBody
	}
	return o, false
}
