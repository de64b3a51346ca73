package jwtauth

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func hmacConfig() Config {
	return Config{Secret: testSecret, Issuer: "https://idp.test", Audience: []string{"chroma"}, ReloadInterval: -1}
}

func requireRefused(t *testing.T, v *Verifier, tok string, want error) {
	t.Helper()
	id, err := v.Verify(tok)
	require.Nil(t, id)
	require.ErrorIs(t, err, want)
	var e *Error
	require.True(t, errors.As(err, &e))
	require.NotContains(t, err.Error(), tok)
}

func TestHMACValidAndCached(t *testing.T) {
	v := started(t, hmacConfig())
	tok := sign(t, testSecret, "HS256", "", claims(nil))
	id, err := v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, "alice", id.User)
	require.Equal(t, "*", id.Tenant)
	require.Equal(t, []string{"*"}, id.Databases)
	require.Nil(t, id.Collections)
	require.Equal(t, "jwt", id.Provider)
	require.EqualValues(t, 1, v.Verifications())
	id2, err := v.Verify(tok)
	require.NoError(t, err)
	require.Same(t, id, id2, "a reused token is answered from the cache")
	require.EqualValues(t, 1, v.Verifications(), "no second signature check")
	require.Equal(t, 1, v.CacheLen())
}

func TestRegisteredClaims(t *testing.T) {
	v := started(t, hmacConfig())
	now := time.Now()
	cases := []struct {
		name  string
		extra map[string]any
		want  error
	}{
		{"expired", map[string]any{"exp": now.Add(-time.Minute).Unix()}, ErrExpired},
		{"no exp", map[string]any{"exp": nil}, ErrMissingClaim},
		{"not yet valid", map[string]any{"nbf": now.Add(time.Hour).Unix()}, ErrNotYetValid},
		{"issued in the future", map[string]any{"iat": now.Add(time.Hour).Unix()}, ErrIssuedInFuture},
		{"other issuer", map[string]any{"iss": "https://evil.test"}, ErrWrongIssuer},
		{"no issuer", map[string]any{"iss": nil}, ErrMissingClaim},
		{"other audience", map[string]any{"aud": "other"}, ErrWrongAudience},
		{"no audience", map[string]any{"aud": nil}, ErrWrongAudience},
		{"exp not a number", map[string]any{"exp": "tomorrow"}, ErrClaimType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requireRefused(t, v, sign(t, testSecret, "HS256", "", claims(c.extra)), c.want)
		})
	}
	// an audience list holding ours passes
	_, err := v.Verify(sign(t, testSecret, "HS256", "", claims(map[string]any{"aud": []string{"x", "chroma"}})))
	require.NoError(t, err)
}

func TestLeeway(t *testing.T) {
	cfg := hmacConfig()
	cfg.Leeway = 30 * time.Second
	v := started(t, cfg)
	expired := sign(t, testSecret, "HS256", "", claims(map[string]any{"exp": time.Now().Add(-10 * time.Second).Unix()}))
	_, err := v.Verify(expired)
	require.NoError(t, err, "within the leeway")
	require.Equal(t, 0, v.CacheLen(), "a token past its exp is never cached")
	requireRefused(t, v, sign(t, testSecret, "HS256", "", claims(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})), ErrExpired)
}

func TestCacheNeverPastExp(t *testing.T) {
	v := started(t, hmacConfig())
	exp := time.Now().Add(2 * time.Second)
	tok := sign(t, testSecret, "HS256", "", claims(map[string]any{"exp": exp.Unix()}))
	_, err := v.Verify(tok)
	require.NoError(t, err)
	v.now = func() time.Time { return exp.Add(time.Second) }
	requireRefused(t, v, tok, ErrExpired)
	require.EqualValues(t, 2, v.Verifications())
}

func TestAlgNoneAndTampering(t *testing.T) {
	v := started(t, hmacConfig())
	tok := sign(t, testSecret, "HS256", "", claims(nil))
	parts := strings.Split(tok, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	requireRefused(t, v, none+"."+parts[1]+".", ErrAlgNotAllowed)
	requireRefused(t, v, none+"."+parts[1]+"."+parts[2], ErrAlgNotAllowed)
	// a claim changed after signing
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	evil := strings.Replace(string(payload), `"alice"`, `"admin"`, 1)
	require.NotEqual(t, string(payload), evil)
	requireRefused(t, v, parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(evil))+"."+parts[2], ErrBadSignature)
	// other secret
	requireRefused(t, v, sign(t, []byte("another-secret-another-secret-another"), "HS256", "", claims(nil)), ErrBadSignature)
	for _, junk := range []string{"x", "..", tok + ".x", parts[0] + ".@@." + parts[2]} {
		requireRefused(t, v, junk, ErrMalformed)
	}
	requireRefused(t, v, "a.b.c", ErrMalformed)
}

// TestAlgorithmConfusion: a token HMAC-signed with the RSA public key (as
// PEM and DER) is refused, whether or not HMAC is configured too.
func TestAlgorithmConfusion(t *testing.T) {
	priv := rsaKey(t)
	pemKey := publicPEM(t, &priv.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	file := writeFile(t, t.TempDir(), "pub.pem", pemKey)

	onlyRSA := started(t, Config{KeyFiles: []string{file}, ReloadInterval: -1})
	good := sign(t, priv, "RS256", "", claims(nil))
	_, err = onlyRSA.Verify(good)
	require.NoError(t, err)
	for _, secret := range [][]byte{pemKey, der} {
		requireRefused(t, onlyRSA, sign(t, secret, "HS256", "", claims(nil)), ErrAlgNotAllowed)
	}

	both := started(t, Config{KeyFiles: []string{file}, Secret: testSecret, ReloadInterval: -1})
	for _, secret := range [][]byte{pemKey, der} {
		requireRefused(t, both, sign(t, secret, "HS256", "", claims(nil)), ErrBadSignature)
	}
	_, err = both.Verify(good)
	require.NoError(t, err)
}

func TestAllowList(t *testing.T) {
	priv := rsaKey(t)
	file := writeFile(t, t.TempDir(), "pub.pem", publicPEM(t, &priv.PublicKey))
	v := started(t, Config{KeyFiles: []string{file}, Algorithms: []string{"PS256"}, ReloadInterval: -1})
	requireRefused(t, v, sign(t, priv, "RS256", "", claims(nil)), ErrAlgNotAllowed)
	_, err := v.Verify(sign(t, priv, "PS256", "", claims(nil)))
	require.NoError(t, err)

	_, err = New(Config{KeyFiles: []string{file}, Algorithms: []string{"HS256"}}, Hooks{})
	require.ErrorContains(t, err, "HMAC HS256/384/512 only with secret")
	_, err = New(Config{Secret: testSecret, Algorithms: []string{"none"}}, Hooks{})
	require.Error(t, err)
}

func TestStaticKeyKinds(t *testing.T) {
	dir := t.TempDir()
	r, e, d := rsaKey(t), ecKey(t), edKey(t)
	pems := append(append(publicPEM(t, &r.PublicKey), publicPEM(t, &e.PublicKey)...), publicPEM(t, d.Public())...)
	v := started(t, Config{KeyFiles: []string{writeFile(t, dir, "keys.pem", pems)}, ReloadInterval: -1})
	for _, c := range []struct {
		key any
		alg string
	}{{r, "RS256"}, {r, "RS512"}, {e, "ES256"}, {d, "EdDSA"}} {
		_, err := v.Verify(sign(t, c.key, c.alg, "some-kid", claims(nil)))
		require.NoError(t, err, c.alg)
	}
	// a P-256 key does not verify ES384
	e384 := sign(t, e, "ES256", "", claims(nil))
	require.NotEmpty(t, e384)
	requireRefused(t, v, sign(t, rsaKey(t), "RS256", "", claims(nil)), ErrBadSignature)
}

func TestKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	priv := rsaKey(t)
	der := x509.MarshalPKCS1PrivateKey(priv)
	private := writeFile(t, dir, "priv.pem", []byte("-----BEGIN RSA PRIVATE KEY-----\n"+base64.StdEncoding.EncodeToString(der)+"\n-----END RSA PRIVATE KEY-----\n"))
	for file, want := range map[string]string{
		private: "private key",
		writeFile(t, dir, "empty.pem", []byte("hello")): "no PEM public key",
		dir + "/missing.pem":                            "no such file",
	} {
		v, err := New(Config{KeyFiles: []string{file}, ReloadInterval: -1}, Hooks{})
		require.NoError(t, err)
		require.ErrorContains(t, v.Start(), want)
		v.Stop()
	}
	_, err := New(Config{Secret: []byte("short")}, Hooks{})
	require.ErrorContains(t, err, "at least 32")
}

func TestKeyFileReload(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := ecKey(t), ecKey(t)
	file := writeFile(t, dir, "pub.pem", publicPEM(t, &k1.PublicKey))
	var failed atomic.Int64
	v, err := New(Config{KeyFiles: []string{file}, ReloadInterval: 20 * time.Millisecond}, Hooks{
		KeysFailed: func(string, error) { failed.Add(1) },
	})
	require.NoError(t, err)
	require.NoError(t, v.Start())
	t.Cleanup(v.Stop)
	old := sign(t, k1, "ES256", "", claims(nil))
	_, err = v.Verify(old)
	require.NoError(t, err)
	writeFile(t, dir, "pub.pem", publicPEM(t, &k2.PublicKey))
	newTok := sign(t, k2, "ES256", "", claims(nil))
	eventually(t, 5*time.Second, func() bool { _, err := v.Verify(newTok); return err == nil })
	requireRefused(t, v, old, ErrBadSignature) // the cache forgot it with the key
	// a broken file keeps the last good keys
	writeFile(t, dir, "pub.pem", []byte("garbage"))
	eventually(t, 5*time.Second, func() bool { return failed.Load() > 0 })
	_, err = v.Verify(sign(t, k2, "ES256", "", claims(map[string]any{"sub": "bob"})))
	require.NoError(t, err)
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "secret", append(append([]byte{}, testSecret...), '\n'))
	v := started(t, Config{SecretFile: file, ReloadInterval: 20 * time.Millisecond})
	_, err := v.Verify(sign(t, testSecret, "HS512", "", claims(nil)))
	require.NoError(t, err)
	other := []byte("a-brand-new-secret-a-brand-new-secret")
	writeFile(t, dir, "secret", other)
	tok := sign(t, other, "HS256", "", claims(nil))
	eventually(t, 5*time.Second, func() bool { _, err := v.Verify(tok); return err == nil })
}

func TestReason(t *testing.T) {
	require.Equal(t, "expired", Reason(refuse(ErrExpired)))
	require.Equal(t, "missing_claim", Reason(refuseClaim(ErrMissingClaim, "chroma.tenant")))
	require.Equal(t, "invalid", Reason(errors.New("x")))
	require.Equal(t, "jwt: missing claim: chroma.tenant", refuseClaim(ErrMissingClaim, "chroma.tenant").Error())
}

func TestLooksLikeJWT(t *testing.T) {
	tok := sign(t, testSecret, "HS256", "", claims(nil))
	require.True(t, LooksLikeJWT(tok))
	require.True(t, LooksLikeJWT("eyJhbGciOiJub25lIn0.e30."), "alg none is a JWT, refused as one")
	for _, s := range []string{"", "static-token-0123456789", "eyJhbGciOi.x", tok + ".x", "abc.def.ghi", strings.Repeat("eyJ..", 5000)} {
		require.False(t, LooksLikeJWT(s), s)
	}
}
