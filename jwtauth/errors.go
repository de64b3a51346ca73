package jwtauth

import (
	"errors"
	"time"
)

// The reasons a token is refused. Each is a sentinel that the *Error of a
// refusal wraps, so callers test with errors.Is; Reason gives the short
// name logs and metrics use. No error ever quotes the token.
var (
	ErrMalformed       = errors.New("malformed token")
	ErrAlgNotAllowed   = errors.New("algorithm not allowed")
	ErrUnknownKey      = errors.New("no key for the token")
	ErrBadSignature    = errors.New("bad signature")
	ErrExpired         = errors.New("token expired")
	ErrNotYetValid     = errors.New("token not valid yet")
	ErrIssuedInFuture  = errors.New("token issued in the future")
	ErrWrongIssuer     = errors.New("wrong issuer")
	ErrWrongAudience   = errors.New("wrong audience")
	ErrMissingClaim    = errors.New("missing claim")
	ErrClaimType       = errors.New("claim of the wrong type")
	ErrKeysUnavailable = errors.New("token keys unavailable")
)

// reasons maps each sentinel to its name in logs and metrics.
var reasons = []struct {
	err  error
	name string
}{
	{ErrMalformed, "malformed"},
	{ErrAlgNotAllowed, "alg_not_allowed"},
	{ErrUnknownKey, "unknown_key"},
	{ErrBadSignature, "bad_signature"},
	{ErrExpired, "expired"},
	{ErrNotYetValid, "not_yet_valid"},
	{ErrIssuedInFuture, "issued_in_future"},
	{ErrWrongIssuer, "wrong_issuer"},
	{ErrWrongAudience, "wrong_audience"},
	{ErrMissingClaim, "missing_claim"},
	{ErrClaimType, "claim_type"},
	{ErrKeysUnavailable, "keys_unavailable"},
}

// Error is a refusal: the reason (one of the sentinels above) and, for a
// claim problem, the claim's configured path. Claim paths come from the
// configuration, never from the token.
type Error struct {
	Err   error  // one of the sentinels
	Claim string // the claim path at fault, or ""
	// RetryAfter is set with ErrKeysUnavailable: when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Claim != "" {
		return "jwt: " + e.Err.Error() + ": " + e.Claim
	}
	return "jwt: " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Reason is the short name of a refusal ("expired", "bad_signature", ...)
// for logs and metrics; "invalid" for an error that is none of ours.
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "invalid"
}

func refuse(err error) *Error { return &Error{Err: err} }

func refuseClaim(err error, claim string) *Error { return &Error{Err: err, Claim: claim} }
