package jwtauth

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func mappedConfig() Config {
	c := hmacConfig()
	c.TenantClaim, c.DatabasesClaim, c.RoleClaim, c.CollectionsClaim = "chroma.tenant", "chroma.databases", "https://chroma.example/role", "chroma.collections"
	return c
}

func TestClaimMapping(t *testing.T) {
	v := started(t, mappedConfig())
	tok := sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{
			"tenant": "acme", "databases": []string{"prod", "dev"},
			"collections": map[string]string{"docs": "read", "team-*": "write"},
		},
		"https://chroma.example/role": "reader",
	}))
	id, err := v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, "acme", id.Tenant)
	require.Equal(t, []string{"prod", "dev"}, id.Databases)
	require.Equal(t, "reader", id.Role)
	require.NotNil(t, id.Collections)
	require.Equal(t, providers.LevelRead, id.Collections.Level("docs"))
	require.Equal(t, providers.LevelWrite, id.Collections.Level("team-a"))
	require.Equal(t, providers.LevelNone, id.Collections.Level("secret"))

	// no collections claim: every collection; one database as a string
	id, err = v.Verify(sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{"tenant": "acme", "databases": "prod"},
	})))
	require.NoError(t, err)
	require.Nil(t, id.Collections)
	require.Equal(t, []string{"prod"}, id.Databases)
	require.Equal(t, "", id.Role, "a missing role is no role")

	// a list of one role is that role
	id, err = v.Verify(sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{"tenant": "acme", "databases": "prod"}, "https://chroma.example/role": []string{"writer"},
	})))
	require.NoError(t, err)
	require.Equal(t, "writer", id.Role)
}

func TestClaimRefusals(t *testing.T) {
	v := started(t, mappedConfig())
	ok := map[string]any{"tenant": "acme", "databases": []string{"prod"}}
	with := func(k string, val any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if val == nil {
			delete(m, k)
		} else {
			m[k] = val
		}
		return map[string]any{"chroma": m}
	}
	cases := []struct {
		name   string
		claims map[string]any
		want   error
	}{
		{"no tenant", with("tenant", nil), ErrMissingClaim},
		{"no databases", with("databases", nil), ErrMissingClaim},
		{"empty databases", with("databases", []string{}), ErrMissingClaim},
		{"tenant a number", with("tenant", 7), ErrClaimType},
		{"databases a map", with("databases", map[string]any{"a": 1}), ErrClaimType},
		{"databases with a number", with("databases", []any{"a", 1}), ErrClaimType},
		{"collections a list", with("collections", []string{"docs"}), ErrClaimType},
		{"collections bad level", with("collections", map[string]string{"docs": "root"}), ErrClaimType},
		{"role a list of two", map[string]any{"chroma": ok, "https://chroma.example/role": []string{"a", "b"}}, ErrClaimType},
		{"role a list of a number", map[string]any{"chroma": ok, "https://chroma.example/role": []any{1}}, ErrClaimType},
		{"no sub", map[string]any{"chroma": ok, "sub": nil}, ErrMissingClaim},
		{"sub a number", map[string]any{"chroma": ok, "sub": 5}, ErrClaimType},
		{"tenant with a line break", with("tenant", "a\nb"), ErrClaimType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requireRefused(t, v, sign(t, testSecret, "HS256", "", claims(c.claims)), c.want)
		})
	}
}

func TestLookup(t *testing.T) {
	m := map[string]any{
		"a":           map[string]any{"b": map[string]any{"c": "deep"}},
		"https://x.y": "url",
		"realm_access": map[string]any{
			"roles": []any{"r"},
		},
		"a.b": "literal",
	}
	for path, want := range map[string]any{"a.b.c": "deep", "https://x.y": "url", "a.b": "literal"} {
		got, ok := lookup(m, path, 0)
		require.True(t, ok, path)
		require.Equal(t, want, got)
	}
	_, ok := lookup(m, "a.x", 0)
	require.False(t, ok)
	_, ok = lookup(m, "realm_access.roles", 0)
	require.True(t, ok)
}

// {user} in a collections claim is the token's user (issue 23).
func TestClaimGrantsForUser(t *testing.T) {
	v := started(t, mappedConfig())
	id, err := v.Verify(sign(t, testSecret, "HS256", "", claims(map[string]any{
		"chroma": map[string]any{"tenant": "acme", "databases": "prod", "collections": map[string]string{"{user}-*": "admin"}},
	})))
	require.NoError(t, err)
	require.Equal(t, providers.LevelAdmin, id.Collections.Level("alice-notes"))
	require.Equal(t, providers.LevelNone, id.Collections.Level("bob-notes"))
	require.Equal(t, providers.LevelNone, id.Collections.Level("{user}-notes"))
}
