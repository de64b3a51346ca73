package jwtauth

import (
	"encoding/json"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// maxCandidates bounds the keys one token is tried against (a token with
// no key id, against a set of many keys).
const maxCandidates = 8

// Verify checks a token and returns the identity its claims map to. A
// token verified before, still within its exp and under the same keys,
// costs a keyed hash and a map lookup. A refusal is an *Error naming the
// reason; it never quotes the token.
func (v *Verifier) Verify(token string) (*providers.Identity, error) {
	if len(token) == 0 || len(token) > MaxTokenLen {
		return nil, refuse(ErrMalformed)
	}
	now := v.now()
	k := v.cache.key(token)
	if ks := v.keys.Load(); ks != nil {
		if id := v.cache.get(k, ks.gen, now); id != nil {
			return id, nil
		}
	}
	v.verifications.Add(1)
	id, exp, gen, err := v.verify(token, now)
	if err != nil {
		return nil, err
	}
	v.cache.put(k, id, exp, gen, now)
	return id, nil
}

// verify is the full check: header, key, signature, registered claims,
// then the claim mapping. It returns the key set generation it used.
func (v *Verifier) verify(token string, now time.Time) (*providers.Identity, time.Time, uint64, error) {
	var zero time.Time
	sig, err := jose.ParseSignedCompact(token, v.algs)
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) && unexpected.Got != "" {
			return nil, zero, 0, refuse(ErrAlgNotAllowed)
		}
		return nil, zero, 0, refuse(ErrMalformed)
	}
	if len(sig.Signatures) != 1 {
		return nil, zero, 0, refuse(ErrMalformed)
	}
	hdr := sig.Signatures[0].Header
	alg, kid := hdr.Algorithm, hdr.KeyID
	ks, cands, err := v.keysFor(kid, alg)
	if err != nil {
		return nil, zero, 0, err
	}
	var payload []byte
	for i, c := range cands {
		if i == maxCandidates {
			break
		}
		if payload, err = sig.Verify(c.pub); err == nil {
			break
		}
	}
	if payload == nil {
		return nil, zero, 0, refuse(ErrBadSignature)
	}
	var std jwt.Claims
	var claims map[string]any
	if json.Unmarshal(payload, &std) != nil || json.Unmarshal(payload, &claims) != nil {
		return nil, zero, 0, refuseClaim(ErrClaimType, "registered claims")
	}
	if err := v.checkRegistered(&std, now); err != nil {
		return nil, zero, 0, err
	}
	id, err := mapClaims(&v.cfg, claims)
	if err != nil {
		return nil, zero, 0, err
	}
	return id, std.Expiry.Time(), ks.gen, nil
}

// keysFor picks the keys that may verify a token of this key id and
// algorithm. An id the provider's set lacks makes one refresh (at most one
// every MinRefreshInterval, so made-up ids cannot flood the provider).
func (v *Verifier) keysFor(kid, alg string) (*keySet, []key, error) {
	ks := v.keys.Load()
	if ks == nil {
		return nil, nil, refuse(ErrUnknownKey)
	}
	cands := ks.candidates(kid, alg)
	if isAsymmetric(alg) && v.cfg.remote() {
		if v.remote.Load() == nil {
			if len(cands) == 0 {
				return nil, nil, v.errUnavailable()
			}
		} else if kid != "" && len(ks.byKID[kid]) == 0 {
			v.refresh(false)
			ks = v.keys.Load()
			cands = ks.candidates(kid, alg)
		}
	}
	if len(cands) == 0 {
		if contains(hmacAlgs, alg) && v.cfg.hmac() {
			// the secret is too short for this algorithm (secret_file)
			return nil, nil, refuse(ErrAlgNotAllowed)
		}
		return nil, nil, refuse(ErrUnknownKey)
	}
	return ks, cands, nil
}

// checkRegistered checks exp (required), nbf, iat, iss and aud, with the
// leeway.
func (v *Verifier) checkRegistered(std *jwt.Claims, now time.Time) error {
	if std.Expiry == nil {
		return refuseClaim(ErrMissingClaim, "exp")
	}
	if v.cfg.Issuer != "" && std.Issuer == "" {
		return refuseClaim(ErrMissingClaim, "iss")
	}
	err := std.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.cfg.Issuer,
		AnyAudience: jwt.Audience(v.cfg.Audience),
		Time:        now,
	}, v.cfg.Leeway)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrExpired):
		return refuse(ErrExpired)
	case errors.Is(err, jwt.ErrNotValidYet):
		return refuse(ErrNotYetValid)
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return refuse(ErrIssuedInFuture)
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return refuse(ErrWrongIssuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return refuse(ErrWrongAudience)
	}
	return refuse(ErrMalformed)
}
