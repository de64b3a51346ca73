package jwtauth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// Null claims and empty or unprintable names (claims.go:100, 134, 139,
// 150, 164): a null role is no role and a null collections claim every
// collection, as when they are missing; a null databases claim is
// missing; an empty database name, or one with control characters, as a
// string or in a list, refuses the token.
func TestNullAndEmptyClaims(t *testing.T) {
	v := started(t, mappedConfig())
	tok := func(chroma map[string]any, extra map[string]any) string {
		c := claims(map[string]any{"chroma": chroma})
		for k, val := range extra {
			c[k] = val // nil stays: a null claim
		}
		return sign(t, testSecret, "HS256", "", c)
	}
	id, err := v.Verify(tok(map[string]any{"tenant": "acme", "databases": "prod", "collections": nil}, map[string]any{"https://chroma.example/role": nil}))
	require.NoError(t, err)
	assert.Equal(t, "", id.Role, "a null role is no role")
	assert.Nil(t, id.Collections, "a null collections claim is every collection")
	assert.Equal(t, []string{"prod"}, id.Databases)

	for name, c := range map[string]struct {
		databases any
		want      error
	}{
		"null":                   {nil, ErrMissingClaim},
		"empty string":           {"", ErrClaimType},
		"control character":      {"pr\x01od", ErrClaimType},
		"DEL":                    {"pr\x7fod", ErrClaimType},
		"an empty name in list":  {[]any{"prod", ""}, ErrClaimType},
		"a control char in list": {[]any{"prod", "d\nev"}, ErrClaimType},
	} {
		t.Run(name, func(t *testing.T) {
			requireRefused(t, v, tok(map[string]any{"tenant": "acme", "databases": c.databases}, nil), c.want)
		})
	}
}

// A rows claim (claims.go:81-88) scopes the identity's records: each
// metadata key takes its claim's value; a token without one of them is
// refused, and a configuration without rows claims gives no rows.
func TestRowsClaims(t *testing.T) {
	cfg := mappedConfig()
	cfg.RowsClaims = map[string]string{"owner": "sub", "team": "chroma.team"}
	v := started(t, cfg)
	id, err := v.Verify(sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{"tenant": "acme", "databases": "prod", "team": "blue"},
	})))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"owner": "alice", "team": "blue"}, id.Rows)

	requireRefused(t, v, sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{"tenant": "acme", "databases": "prod"},
	})), ErrMissingClaim)
	requireRefused(t, v, sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{"tenant": "acme", "databases": "prod", "team": 7},
	})), ErrClaimType)

	plain := started(t, mappedConfig())
	id, err = plain.Verify(sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{"tenant": "acme", "databases": "prod", "team": "blue"},
	})))
	require.NoError(t, err)
	assert.Nil(t, id.Rows)
}

// A limits claim (claims.go:71, 198-216) gives the token its own quotas:
// an object of known limits; a missing or null one is none; anything
// else refuses the token. Without limits_claim the claim is ignored.
func TestLimitsClaim(t *testing.T) {
	cfg := mappedConfig()
	cfg.LimitsClaim = "chroma.limits"
	v := started(t, cfg)
	tok := func(limits any) string {
		return sign(t, testSecret, "HS256", "", claims(map[string]any{
			"chroma": map[string]any{"tenant": "acme", "databases": "prod", "limits": limits},
		}))
	}
	id, err := v.Verify(tok(map[string]any{"rate": "5/s", "max_batch": 10}))
	require.NoError(t, err)
	require.NotNil(t, id.Limits)
	assert.Equal(t, quota.Limits{Rate: 5, MaxBatch: 10}, *id.Limits)

	id, err = v.Verify(tok(nil))
	require.NoError(t, err)
	assert.Nil(t, id.Limits, "a null limits claim is none")
	id, err = v.Verify(sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{"tenant": "acme", "databases": "prod"},
	})))
	require.NoError(t, err)
	assert.Nil(t, id.Limits, "a missing one is none")

	for name, bad := range map[string]any{
		"a string":        "5/s",
		"a list":          []any{map[string]any{"rate": "5/s"}},
		"an unknown one":  map[string]any{"rate": "5/s", "speed": 3},
		"negative":        map[string]any{"max_batch": -1},
		"burst, no rate":  map[string]any{"burst": 5},
		"a rate not text": map[string]any{"rate": true},
	} {
		t.Run(name, func(t *testing.T) { requireRefused(t, v, tok(bad), ErrClaimType) })
	}

	plain := started(t, mappedConfig())
	id, err = plain.Verify(tok(map[string]any{"max_batch": 10}))
	require.NoError(t, err)
	assert.Nil(t, id.Limits, "no limits_claim: the claim is not read")
}
