package jwtauth

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A token longer than MaxTokenLen is refused before it is parsed, even
// one whose signature is good (verify.go:23).
func TestOverlongTokenRefusedUnparsed(t *testing.T) {
	v := started(t, hmacConfig())
	tok := sign(t, testSecret, "HS256", "", claims(map[string]any{"pad": strings.Repeat("x", MaxTokenLen)}))
	require.Greater(t, len(tok), MaxTokenLen)
	requireRefused(t, v, tok, ErrMalformed)
	_, err := v.Verify("")
	require.ErrorIs(t, err, ErrMalformed)
	require.Zero(t, v.Verifications(), "neither was parsed")
}

// Every key that may have signed a token is tried, not only the first: a
// key file of two keys of one kind verifies tokens of the second, and a
// token of neither is refused (verify.go:68).
func TestEveryCandidateKeyIsTried(t *testing.T) {
	k1, k2 := ecKey(t), ecKey(t)
	pems := append(publicPEM(t, &k1.PublicKey), publicPEM(t, &k2.PublicKey)...)
	v := started(t, Config{KeyFiles: []string{writeFile(t, t.TempDir(), "keys.pem", pems)}, ReloadInterval: -1})
	for i, k := range []any{k1, k2} {
		_, err := v.Verify(sign(t, k, "ES256", "", claims(nil)))
		require.NoError(t, err, "key %d", i+1)
	}
	requireRefused(t, v, sign(t, ecKey(t), "ES256", "", claims(nil)), ErrBadSignature)
}

// With key files only (no provider to wait for), a token whose algorithm
// no key has is an unknown key, a failure like a wrong password, never
// "keys unavailable", which is answered 503 and spends no failure budget
// (verify.go:99).
func TestNoKeyOfTheAlgorithmWithoutAProviderIsUnknown(t *testing.T) {
	r, e := rsaKey(t), ecKey(t)
	v := started(t, Config{KeyFiles: []string{writeFile(t, t.TempDir(), "keys.pem", publicPEM(t, &r.PublicKey))}, Algorithms: []string{"RS256", "ES256"}, ReloadInterval: -1})
	requireRefused(t, v, sign(t, e, "ES256", "", claims(nil)), ErrUnknownKey)
	requireRefused(t, v, sign(t, e, "ES256", "k9", claims(nil)), ErrUnknownKey)
}

// A token that names a key id the provider's set has, or names none,
// makes no fetch of the keys; only an unknown id does (verify.go:104).
func TestKnownOrNoKeyIDMakesNoFetch(t *testing.T) {
	p := newIDP(t)
	k := ecKey(t)
	p.set(false, jwk(&k.PublicKey, "k1", "ES256"))
	v := started(t, remoteConfig(p))
	v.fetchMu.Lock()
	v.lastFetch = time.Time{} // as if the last fetch were long ago
	v.fetchMu.Unlock()
	before := p.fetches.Load()
	for _, kid := range []string{"k1", ""} {
		requireRefused(t, v, sign(t, ecKey(t), "ES256", kid, idpClaims(p, nil)), ErrBadSignature)
		_, err := v.Verify(sign(t, k, "ES256", kid, idpClaims(p, nil)))
		require.NoError(t, err)
	}
	require.Equal(t, before, p.fetches.Load(), "no fetch")
	requireRefused(t, v, sign(t, k, "ES256", "k2", idpClaims(p, nil)), ErrUnknownKey)
	require.Equal(t, before+1, p.fetches.Load(), "an unknown id fetches once")
}

// Beside a secret, a token of a public-key algorithm no key has is an
// unknown key, not an algorithm not allowed (that is for an HMAC token
// the secret is too short for) (verify.go:111).
func TestMissingKeyReasonBesideASecret(t *testing.T) {
	dir := t.TempDir()
	v := started(t, Config{
		Secret:         testSecret[:32],
		KeyFiles:       []string{writeFile(t, dir, "keys.pem", publicPEM(t, &rsaKey(t).PublicKey))},
		Algorithms:     []string{"HS256", "RS256", "ES256"},
		ReloadInterval: -1,
	})
	requireRefused(t, v, sign(t, ecKey(t), "ES256", "", claims(nil)), ErrUnknownKey)
	_, err := v.Verify(sign(t, testSecret[:32], "HS256", "", claims(nil)))
	require.NoError(t, err)
}
