package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func noEnv(string) (string, bool) { return "", false }

// TestDecodeIsStrict: a handler's JSON decodes with or without its
// "handler" key; an unknown field is an error naming it.
func TestDecodeIsStrict(t *testing.T) {
	c, err := Decode(json.RawMessage(`{"handler":"chroma_auth","tokens":["t1"],"token_header":"X-Chroma-Token"}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"t1"}, c.Tokens)
	assert.Equal(t, "X-Chroma-Token", c.TokenHeader)
	_, err = Decode(json.RawMessage(`{"htpasswd_fiel":"/x"}`))
	assert.ErrorContains(t, err, "htpasswd_fiel")
	_, err = Decode(json.RawMessage(`[`))
	assert.Error(t, err)
}

// TestPrepare: a good config gives the canonical token header, the
// public routes, the sources and a policy; a bad one an error, and a
// Prepared that is never nil.
func TestPrepare(t *testing.T) {
	c := &Handler{Tokens: []string{"tok-0123"}, TokenHeader: "x_chroma_token", Public: []string{"/extra"}}
	p, err := c.Prepare(noEnv)
	require.NoError(t, err)
	assert.Equal(t, authz.HeaderChromaToken, p.TokenHeader)
	assert.Contains(t, p.Public, "/extra")
	assert.Contains(t, p.Public, "/api/v2/heartbeat")
	assert.Equal(t, []string{"tok-0123"}, p.Sources.Tokens)
	require.NotNil(t, p.Policy)
	assert.Equal(t, 1, p.Policy.Creds.NumTokens())
	assert.Nil(t, p.Policy.RBAC)

	p, err = (&Handler{}).Prepare(noEnv)
	assert.ErrorContains(t, err, "no credentials configured")
	require.NotNil(t, p, "the Prepared is never nil")
	assert.Nil(t, p.Policy)
	p, err = (&Handler{HtpasswdFile: filepath.Join(t.TempDir(), "missing")}).Prepare(noEnv)
	assert.Error(t, err)
	require.NotNil(t, p)
	assert.Equal(t, authz.HeaderAuthorization, p.TokenHeader, "what was worked out before the load failed")
}

// TestReload: a gone credentials file revokes what it held; a gone RBAC
// file allows nothing (an RBAC of no roles), and both are named.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	toks := filepath.Join(dir, "tokens.txt")
	rbac := filepath.Join(dir, "rbac.yaml")
	require.NoError(t, os.WriteFile(toks, []byte("tok-file-0123\n"), 0o600))
	require.NoError(t, os.WriteFile(rbac, []byte("roles_mapping:\n  reader:\n    actions: [\"tenant:get_tenant\"]\nusers:\n  - id: anonymous\n    role: reader\n"), 0o600))
	c := &Handler{Tokens: []string{"tok-inline-0123"}, TokenFiles: []string{toks}, AuthzFile: rbac}
	p, err := c.Prepare(noEnv)
	require.NoError(t, err)
	assert.Equal(t, 2, p.Policy.Creds.NumTokens())
	assert.ElementsMatch(t, []string{toks, rbac}, c.WatchedFiles(p.Sources))
	assert.NotEmpty(t, p.Policy.RBAC.Roles())

	require.NoError(t, os.Remove(toks))
	require.NoError(t, os.Remove(rbac))
	pol, gone, _, err := c.Reload(p.Sources)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{toks, rbac}, gone)
	assert.Equal(t, 1, pol.Creds.NumTokens(), "the gone file's token is revoked")
	require.NotNil(t, pol.RBAC, "a gone RBAC file is not RBAC off")
	assert.Empty(t, pol.RBAC.Roles(), "it allows nothing")
	id := &providers.Identity{User: "anonymous"}
	assert.False(t, pol.RBAC.Allowed(id, "tenant:get_tenant"))
}
