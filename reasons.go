package chromaauth

import (
	"errors"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/admission"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
)

// The reasons a request is refused, beside those of request.go, reject.go
// and jwt.go. Every reason is a constant named reason… in this package:
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
