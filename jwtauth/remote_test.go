package jwtauth

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func remoteConfig(p *idp) Config {
	return Config{Issuer: p.URL, Audience: []string{"chroma"}, MinRefreshInterval: time.Second, ReloadInterval: -1}
}

func idpClaims(p *idp, extra map[string]any) map[string]any {
	c := claims(extra)
	if _, ok := extra["iss"]; !ok {
		c["iss"] = p.URL
	}
	return c
}

func TestDiscoveryAndRotation(t *testing.T) {
	p := newIDP(t)
	k1, k2 := rsaKey(t), ecKey(t)
	p.set(false, jwk(&k1.PublicKey, "k1", "RS256"))
	v := started(t, remoteConfig(p))
	require.True(t, v.Ready())
	_, err := v.Verify(sign(t, k1, "RS256", "k1", idpClaims(p, nil)))
	require.NoError(t, err)

	// the provider rotates: a token of the new key id makes one fetch
	p.set(false, jwk(&k1.PublicKey, "k1", "RS256"), jwk(&k2.PublicKey, "k2", "ES256"))
	v.lastFetch = time.Time{} // as if the last fetch were long ago
	before := p.fetches.Load()
	_, err = v.Verify(sign(t, k2, "ES256", "k2", idpClaims(p, nil)))
	require.NoError(t, err)
	require.Equal(t, before+1, p.fetches.Load())

	// made-up key ids: at most one fetch per MinRefreshInterval
	before = p.fetches.Load()
	for i := range 50 {
		requireRefused(t, v, sign(t, k2, "ES256", "made-up-"+string(rune('a'+i%26)), idpClaims(p, nil)), ErrUnknownKey)
	}
	require.LessOrEqual(t, p.fetches.Load()-before, int64(1))

	// a key pinned to RS256 does not verify RS512, nor an RS key ES256
	requireRefused(t, v, sign(t, k1, "RS512", "k1", idpClaims(p, nil)), ErrUnknownKey)
	requireRefused(t, v, sign(t, testSecret, "HS256", "k1", idpClaims(p, nil)), ErrAlgNotAllowed)
	requireRefused(t, v, sign(t, k1, "RS256", "k1", idpClaims(p, map[string]any{"iss": "https://other.test"})), ErrWrongIssuer)
}

func TestProviderDownAtStart(t *testing.T) {
	p := newIDP(t)
	k := ecKey(t)
	p.set(true, jwk(&k.PublicKey, "k", ""))
	var loaded, failed atomic.Int64
	v, err := New(remoteConfig(p), Hooks{
		KeysLoaded: func(string, int) { loaded.Add(1) },
		KeysFailed: func(_ string, err error) { failed.Add(1); require.NotContains(t, err.Error(), "BEGIN") },
	})
	require.NoError(t, err)
	require.NoError(t, v.Start())
	t.Cleanup(v.Stop)
	require.False(t, v.Ready())
	require.EqualValues(t, 1, failed.Load())
	require.EqualValues(t, 0, loaded.Load())
	tok := sign(t, k, "ES256", "k", idpClaims(p, nil))
	_, err = v.Verify(tok)
	require.ErrorIs(t, err, ErrKeysUnavailable)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, time.Second, e.RetryAfter)

	p.set(false)
	eventually(t, 10*time.Second, v.Ready)
	_, err = v.Verify(tok)
	require.NoError(t, err)
	require.EqualValues(t, 1, loaded.Load())
	v.refresh(true) // the same keys again: nothing to report
	require.EqualValues(t, 1, loaded.Load())

	// a failed refresh keeps the last good keys
	p.set(true)
	v.refresh(true)
	_, err = v.Verify(sign(t, k, "ES256", "k", idpClaims(p, map[string]any{"sub": "bob"})))
	require.NoError(t, err)
}

func TestJWKSURLAndIssuerMismatch(t *testing.T) {
	p := newIDP(t)
	k := edKey(t)
	p.set(false, jwk(k.Public(), "ed", "EdDSA"))
	v := started(t, Config{JWKSURL: p.URL + "/jwks", Audience: []string{"chroma"}, ReloadInterval: -1})
	_, err := v.Verify(sign(t, k, "EdDSA", "ed", idpClaims(p, nil)))
	require.NoError(t, err, "no issuer configured: iss is not checked")

	// discovery naming another issuer gives no keys
	bad := started(t, Config{Issuer: p.URL + "/other", Audience: []string{"chroma"}, ReloadInterval: -1})
	require.False(t, bad.Ready())
}

func TestStopEndsGoroutines(t *testing.T) {
	p := newIDP(t)
	k := ecKey(t)
	p.set(false, jwk(&k.PublicKey, "k", ""))
	dir := t.TempDir()
	file := writeFile(t, dir, "pub.pem", publicPEM(t, &ecKey(t).PublicKey))
	before := runtime.NumGoroutine()
	for range 20 {
		cfg := remoteConfig(p)
		cfg.KeyFiles = []string{file}
		cfg.JWKSURL = p.URL + "/jwks"
		cfg.ReloadInterval = 10 * time.Millisecond
		v, err := New(cfg, Hooks{})
		require.NoError(t, err)
		require.NoError(t, v.Start())
		v.Stop()
		v.Stop() // twice is fine
	}
	eventually(t, 5*time.Second, func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no keys"},
		{Config{Issuer: "https://x"}, "audience is required"},
		{Config{JWKSURL: "ftp://x", Audience: []string{"a"}}, "http(s) URL"},
		{Config{Secret: testSecret, SecretFile: "/x"}, "keep one"},
		{Config{Secret: testSecret, Leeway: time.Hour}, "leeway"},
		{Config{Secret: testSecret, MinRefreshInterval: time.Millisecond}, "min_refresh_interval"},
		{Config{Secret: testSecret, TenantClaim: "a..b"}, "empty member"},
	} {
		require.ErrorContains(t, c.cfg.Validate(), c.want)
	}
}
