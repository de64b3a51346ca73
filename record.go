package chromaauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/admission"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/audit"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/metrics"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Results of a request, the `result` label of requests_total.
const (
	resultAllowed     = "allowed"
	resultPublic      = "public"
	resultDenied      = "denied"
	resultForbidden   = "forbidden"
	resultRateLimited = "rate_limited"
	resultBusy        = "busy"
	// resultBadRequest: an authenticated request refused for its body or
	// query (400, 413), not for its credential.
	resultBadRequest = "bad_request"
	resultQuota      = "quota_exceeded"
)

// outcome is how a decision is counted and written: the requests_total
// result, the audit's decision, and the reason (denied_total's label, the
// denial log's and the placeholder's), each a constant.
type outcome struct {
	result, decision, reason string
}

// outcomeOf maps a decision to its outcome.
func outcomeOf(d *authz.Decision) outcome {
	if o, ok := quotaOutcome(d); ok {
		return o
	}
	switch d.Verdict {
	case authz.VerdictAllowed:
		if d.Public {
			return outcome{resultPublic, audit.DecisionAllowed, ""}
		}
		return outcome{resultAllowed, audit.DecisionAllowed, ""}
	case authz.VerdictRefused:
		return outcome{resultForbidden, audit.DecisionForbidden, reasonForbidden}
	case authz.VerdictLimited:
		return outcome{resultRateLimited, audit.DecisionRateLimited, reasonRateLimited}
	case authz.VerdictUnavailable:
		if d.Identity != nil {
			return outcome{resultBusy, audit.DecisionBusy, reasonLookupUnavailable}
		}
		return outcome{resultBusy, audit.DecisionBusy, d.Reason}
	case authz.VerdictBadBody:
		switch {
		case d.Status == http.StatusRequestEntityTooLarge:
			return outcome{resultBadRequest, audit.DecisionBadRequest, reasonBodyTooLarge}
		case d.Reason == reasonBadQuery:
			return outcome{resultBadRequest, audit.DecisionBadRequest, reasonBadQuery}
		}
		return outcome{resultBadRequest, audit.DecisionBadRequest, reasonBadBody}
	}
	return outcome{resultDenied, audit.DecisionUnauthorized, d.Reason}
}

// record writes what a decision leaves behind, once per request: the
// {http.auth.chroma_auth.reason} placeholder, the metrics, the denial log
// and the audit line. A request forwarded upstream is recorded once
// Chroma has answered, when the audit wants the answer's status
// (recordAfter).
func (h *ChromaAuth) record(r *http.Request, d *authz.Decision) { h.recordWithID(r, d, "") }

// recordWithID is record with Caddy's request id when the caller made it
// already ("": the audit looks it up).
func (h *ChromaAuth) recordWithID(r *http.Request, d *authz.Decision, requestID string) {
	o := outcomeOf(d)
	if o.reason != "" {
		if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
			repl.Set("http.auth.chroma_auth.reason", o.reason)
		}
		metrics.Denied(o.reason)
		h.logDecision(r, d, o.reason)
	}
	metrics.Request(o.result)
	if h.auditLog == nil || (d.Public && !h.Audit.Public) {
		return // public routes and CORS preflights only when asked
	}
	rt := d.Route
	var p authz.Route
	if rt == nil {
		// From the path alone: an unauthenticated body is not read, and
		// one the decision did not need is Chroma's.
		p = authz.ClassifyPath(r.Method, r.URL)
		rt = &p
	}
	reason := o.reason
	if d.Verdict == authz.VerdictRefused {
		reason = d.Reason // which action, scope or collection
	}
	// The decision and the route stay on the stack: Write keeps neither
	// (TestAuditAllocs, TestPublicRouteAllocatesNothing).
	l := audit.Line{Decision: o.decision, Status: d.Status, Reason: reason, ClientIP: d.Client, RequestID: requestID}
	if l.ClientIP == "" {
		l.ClientIP = clientIP(r)
	}
	if d.Identity == nil && o.decision != audit.DecisionAllowed {
		l.Tried = h.attempted(r)
	}
	audit.Writer{Log: h.auditLog, Out: h.auditOut, Namer: h.namer, Owners: h.owners}.Write(r, d, rt, l)
}

// attempted names what an unauthenticated request tried, for its audit
// line: a Basic user name, or an API key's id (the part before its
// secret). Never a password, token or key.
func (h *ChromaAuth) attempted(r *http.Request) (t audit.Tried) {
	t.Provider = h.attemptedProvider(r)
	switch t.Provider {
	case providers.ProviderBasic:
		t.User = attemptedUser(r)
	case providers.ProviderToken:
		tok := strings.TrimSpace(r.Header.Get(headerChromaToken))
		if scheme, rest, _ := strings.Cut(strings.TrimSpace(r.Header.Get(headerAuthorization)), " "); strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimSpace(rest)
		}
		if id, _, ok := providers.SplitKey(tok); ok {
			t.Provider, t.KeyID = providers.ProviderKey, id
		} else if h.jwt != nil && jwtauth.LooksLikeJWT(tok) {
			t.Provider = providers.ProviderJWT
		}
	}
	return t
}

// logDecision writes the denial log of a decision that did not allow.
func (h *ChromaAuth) logDecision(r *http.Request, d *authz.Decision, reason string) {
	switch d.Verdict {
	case authz.VerdictRefused:
		if d.Detail != "" {
			h.logger.Debug("collection grant refused", zap.String("user", d.Identity.User), zap.String("detail", d.Detail))
		}
		h.logDenied(r, reason, d.Identity, d.Reason)
	case authz.VerdictUnavailable:
		if d.Identity != nil {
			h.logger.Warn("cannot look up a collection's owner upstream", zap.Error(d.Err))
			return
		}
		h.logDenied(r, reason, nil, "")
	case authz.VerdictBadBody:
		h.logDenied(r, reason, d.Identity, d.Detail)
	default:
		h.logDenied(r, reason, d.Identity, "")
	}
}

// recordAfter forwards r with serve and records d once the answer is
// known: with the audit on, with the answer's status (Caddy's, when the
// upstream failed); with it off, at once, as nothing waits on the status.
func (h *ChromaAuth) recordAfter(w http.ResponseWriter, r *http.Request, d *authz.Decision, serve func(http.ResponseWriter) error) error {
	if h.auditLog == nil || (d.Public && !h.Audit.Public) {
		h.record(r, d)
		return serve(w)
	}
	requestID := audit.RequestID(r) // made now, before anything can dial upstream (see audit.RequestID)
	sw := lookup.NewStatusWriter(w)
	err := serve(sw)
	d.Status = sw.Status
	if d.Status == 0 {
		d.Status = http.StatusOK
		var he caddyhttp.HandlerError
		if errors.As(err, &he) {
			d.Status = he.StatusCode // the upstream failed: Caddy answers it
		}
	}
	h.recordWithID(r, d, requestID)
	return err
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

// The reasons a request is refused, beside those of credentials.go and
// reject.go. Every reason is a constant named reason… in this package:
// the same word goes to the denial log, the `reason` label of
// caddy_chroma_auth_denied_total, the audit line and the
// `{http.auth.chroma_auth.reason}` placeholder. The contract tests
// (contract/) hold the README's list of reasons to these constants.
const (
	// reasonForbidden: a 403, the scope, RBAC or collection grants refused
	// the request (the log's detail and the audit's reason say which).
	reasonForbidden = "forbidden"
	// reasonLookupUnavailable: a 503, Chroma did not answer the lookup of
	// a collection's owner that the decision needed.
	reasonLookupUnavailable = "lookup_unavailable"
	// reasonBadBody: a 400, the body the decision needs is unreadable or
	// not what the route takes.
	reasonBadBody = "bad_body"
	// reasonBodyTooLarge: a 413, the body the decision needs is larger
	// than the gateway reads.
	reasonBodyTooLarge = "body_too_large"
	// reasonBadQuery: a 400, a filtered listing's limit or offset is not a
	// non-negative integer.
	reasonBadQuery = "bad_query"
	// The quotas' refusals (see admission): over the rate (429), over
	// the concurrent requests (429), over a size (400, 413).
	reasonQuotaRate       = admission.ReasonRate
	reasonQuotaConcurrent = admission.ReasonConcurrent
	reasonQuotaSize       = admission.ReasonSize
)

// The reasons a JWT is refused (401).
const (
	reasonJWTAlgNotAllowed  = "jwt_alg_not_allowed"
	reasonJWTUnknownKey     = "jwt_unknown_key"
	reasonJWTBadSignature   = "jwt_bad_signature"
	reasonJWTExpired        = "jwt_expired"
	reasonJWTNotYetValid    = "jwt_not_yet_valid"
	reasonJWTIssuedInFuture = "jwt_issued_in_future"
	reasonJWTWrongIssuer    = "jwt_wrong_issuer"
	reasonJWTWrongAudience  = "jwt_wrong_audience"
	reasonJWTMissingClaim   = "jwt_missing_claim"
	reasonJWTClaimType      = "jwt_claim_type"
	// reasonJWTInvalid: a refusal of no other kind.
	reasonJWTInvalid = "jwt_invalid"
)

var jwtReasons = []struct {
	err    error
	reason string
}{
	{jwtauth.ErrAlgNotAllowed, reasonJWTAlgNotAllowed},
	{jwtauth.ErrUnknownKey, reasonJWTUnknownKey},
	{jwtauth.ErrBadSignature, reasonJWTBadSignature},
	{jwtauth.ErrExpired, reasonJWTExpired},
	{jwtauth.ErrNotYetValid, reasonJWTNotYetValid},
	{jwtauth.ErrIssuedInFuture, reasonJWTIssuedInFuture},
	{jwtauth.ErrWrongIssuer, reasonJWTWrongIssuer},
	{jwtauth.ErrWrongAudience, reasonJWTWrongAudience},
	{jwtauth.ErrMissingClaim, reasonJWTMissingClaim},
	{jwtauth.ErrClaimType, reasonJWTClaimType},
}

// jwtReason is the reason of a JWT refusal.
func jwtReason(err error) string {
	for _, r := range jwtReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return reasonJWTInvalid
}

const (
	headerAuthorization = authz.HeaderAuthorization
	headerChromaToken   = authz.HeaderChromaToken
)

// Reasons a request is refused; they go to logs, metrics and the
// `{http.auth.chroma_auth.reason}` placeholder, never to the client.
const (
	reasonMissing   = authz.ReasonMissing
	reasonMalformed = authz.ReasonMalformed
	reasonAmbiguous = authz.ReasonAmbiguous
	reasonInvalid   = "invalid_credentials"
	reasonBusy      = "bcrypt_busy"
	// reasonRateLimited: too many failures from the client's address.
	reasonRateLimited = "rate_limited"
)
