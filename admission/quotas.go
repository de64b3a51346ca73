// Package admission applies the quotas of the `limits` block and of each
// identity (users file `limits:`, a key's or a JWT's own) to the requests
// of a handler, and opens the `shared_state` store in which the quotas and
// the failure limiter count across gateways. It says what it refuses (a
// Refusal: the decision, its status and body); the handler records and
// answers it.
package admission

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// Denial reasons of the quotas.
const (
	ReasonRate       = "quota_rate"
	ReasonConcurrent = "quota_concurrent"
	ReasonSize       = "quota_size"
)

// Quotas is what a handler counts its quotas with; any handler has them,
// as a users file may give users limits without a limits block.
type Quotas struct {
	block     quota.Limits
	perTenant bool
	engine    quota.Engine
}

// New is the quotas of the limits block c (nil: none but the users').
func New(c *config.QuotaConfig) *Quotas {
	q := new(Quotas)
	if c != nil {
		q.block, q.perTenant = c.Limits, c.PerTenant
	}
	return q
}

// LimitsOf are id's limits: the block's, replaced by its user's own, then
// tightened by its credential's (an API key's, a JWT's).
func (q *Quotas) LimitsOf(creds *providers.Credentials, id *providers.Identity) quota.Limits {
	return quota.Min(quota.Override(q.block, creds.UserLimits(id.User)), id.Limits)
}

// KeyOf is what id's rate and concurrency count against.
func (q *Quotas) KeyOf(id *providers.Identity) quota.Key {
	switch {
	case q.perTenant && !id.AllTenants():
		return quota.Key{Kind: quota.KindTenant, Name: id.Tenant}
	case id.KeyID != "":
		return quota.Key{Kind: quota.KindKey, Name: id.KeyID}
	}
	return quota.Key{Kind: quota.KindUser, Name: id.User}
}

// Refusal is a quota's answer: the decision to record, and what to send.
type Refusal struct {
	D          authz.Decision
	RetryAfter string // the Retry-After header ("" for none)
	Body       []byte // JSON, in Chroma's error shape
}

// Admit applies id's quotas to r. A refusal is non-nil when it refuses;
// else the caller ends the ticket with Done when the request ends.
func (q *Quotas) Admit(r *http.Request, creds *providers.Credentials, id *providers.Identity) (t quota.Ticket, no *Refusal) {
	l := q.LimitsOf(creds, id)
	if l.IsZero() {
		return t, nil
	}
	t, why, wait := q.engine.Admit(q.KeyOf(id), l)
	if why != "" {
		return t, refuseRate(id, why, wait)
	}
	if l.Sized() {
		if op := quota.OpOf(r); quota.Applies(op, l) {
			if v := quota.Check(r, op, l); v != nil {
				q.engine.Done(t)
				return t, refuseSize(id, v)
			}
		}
	}
	return t, nil
}

// Done ends the ticket of an admitted request.
func (q *Quotas) Done(t quota.Ticket) { q.engine.Done(t) }

// refuseRate is 429 with Retry-After and Chroma's RateLimitError.
func refuseRate(id *providers.Identity, why quota.Reason, wait time.Duration) *Refusal {
	reason, msg := ReasonRate, "Too many requests: over the gateway's rate limit; retry later"
	if why == quota.ReasonConcurrent {
		reason, msg = ReasonConcurrent, "Too many requests at once: over the gateway's concurrent limit; retry later"
	}
	return &Refusal{
		D:          authz.Decision{Verdict: authz.VerdictLimited, Status: http.StatusTooManyRequests, Reason: reason, Identity: id},
		RetryAfter: strconv.Itoa(int(math.Ceil(max(wait.Seconds(), 1)))),
		Body:       jsonError("RateLimitError", msg),
	}
}

// refuseSize is the answer to a request over a size limit: 400 with
// Chroma's QuotaError naming the limit (413 for a body too large to
// check).
func refuseSize(id *providers.Identity, v *quota.Violation) *Refusal {
	status := http.StatusBadRequest
	if v.Limit == "" {
		status = http.StatusRequestEntityTooLarge
	}
	return &Refusal{
		D:    authz.Decision{Verdict: authz.VerdictBadBody, Status: status, Reason: ReasonSize, Detail: v.Message(), Identity: id},
		Body: jsonError("QuotaError", v.Message()),
	}
}

// jsonError is a body in Chroma's error shape.
func jsonError(name, message string) []byte {
	b, _ := json.Marshal(map[string]string{"error": name, "message": message})
	return b
}
