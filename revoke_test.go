package chromaauth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// A credentials file that is gone revokes what it held from the next
// reload, with an error log naming it; a file that fails to parse keeps
// the last good set; a gone RBAC file allows nothing.
func TestGoneCredentialFilesRevoke(t *testing.T) {
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"bob": "bob-pw-1"})
	tokens := writeTestFile(t, dir, "tokens.txt", "tok-static-0123\n")
	keysFile, keys := writeKeys(t, dir, providers.KeyEntry{User: "kate"})
	rbac := writeTestFile(t, dir, "rbac.yaml", "roles_mapping:\n  all: { actions: [db:list_collections] }\nusers:\n  - { id: bob, role: all }\n  - { id: kate, role: all }\n  - { id: anonymous, role: all }\n")
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{HtpasswdFile: ht, TokenFiles: []string{tokens}, KeysFile: keysFile, AuthzFile: rbac, ReloadInterval: -1, FailuresPerMinute: -1}})
	core, logs := observer.New(zap.DebugLevel)
	h.logger = zap.New(core)
	const list = "/api/v2/tenants/t/databases/d/collections"
	basic := "Basic " + b64("bob:bob-pw-1")
	do := func(authorization string) int {
		t.Helper()
		return serveAuth(t, h, list, authorization)
	}
	require.Equal(t, http.StatusOK, do(basic))
	require.Equal(t, http.StatusOK, do("Bearer tok-static-0123"))
	require.Equal(t, http.StatusOK, do("Bearer "+keys[0]))

	gone := func(file string) {
		t.Helper()
		require.NoError(t, os.Remove(file))
		h.reload()
		found := logs.FilterMessage("credentials file is gone; what it held is revoked").FilterField(zap.String("file", file)).Len()
		assert.Equal(t, 1, found, "an error log names %s", file)
		assert.Equal(t, 0, logs.FilterMessage("credentials reload failed; keeping the last good credentials and roles").Len())
	}

	// A broken file keeps the last good set.
	require.NoError(t, os.WriteFile(keysFile, []byte("not json\n"), 0o600))
	h.reload()
	assert.Equal(t, 1, logs.FilterMessage("credentials reload failed; keeping the last good credentials and roles").Len())
	assert.Equal(t, http.StatusOK, do("Bearer "+keys[0]), "a file that fails to parse keeps the last good set")
	logs.TakeAll()

	gone(keysFile)
	assert.Equal(t, http.StatusUnauthorized, do("Bearer "+keys[0]))
	assert.Equal(t, http.StatusOK, do(basic), "the other files hold")
	assert.Equal(t, http.StatusOK, do("Bearer tok-static-0123"))
	logs.TakeAll()

	gone(tokens)
	assert.Equal(t, http.StatusUnauthorized, do("Bearer tok-static-0123"))
	assert.Equal(t, http.StatusOK, do(basic))
	logs.TakeAll()

	gone(rbac)
	assert.Equal(t, http.StatusForbidden, do(basic), "a gone RBAC file allows nothing")
	logs.TakeAll()

	gone(ht)
	assert.Equal(t, http.StatusUnauthorized, do(basic), "every file gone: nobody gets in")
	logs.TakeAll()

	// Back again: the next reload loads them.
	writeHtpasswd(t, dir, map[string]string{"bob": "bob-pw-1"})
	writeTestFile(t, dir, "rbac.yaml", "roles_mapping:\n  all: { actions: [db:list_collections] }\nusers:\n  - { id: bob, role: all }\n")
	writeTestFile(t, dir, "tokens.txt", "tok-static-0123\n")
	writeTestFile(t, dir, "keys.jsonl", "")
	h.reload()
	assert.Equal(t, http.StatusOK, do(basic))
}

// A gone users file takes its htpasswd users with it: they had their
// scope from it, and must not reach everything.
func TestGoneUsersFileRevokesItsBasicUsers(t *testing.T) {
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"bob": "bob-pw-1"})
	users := writeTestFile(t, dir, "users.yaml", "users:\n  - id: bob\n    tenant: acme\n    tokens: [tok-bob-0123]\n")
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{HtpasswdFile: ht, UsersFile: users, TokenFiles: []string{users}, ReloadInterval: -1, FailuresPerMinute: -1}})
	core, logs := observer.New(zap.DebugLevel)
	h.logger = zap.New(core)
	basic := "Basic " + b64("bob:bob-pw-1")
	const acme = "/api/v2/tenants/acme/databases/d/collections"
	require.Equal(t, http.StatusOK, serveAuth(t, h, acme, basic))
	require.NoError(t, os.Remove(users))
	h.reload()
	assert.Equal(t, http.StatusUnauthorized, serveAuth(t, h, "/api/v2/tenants/other/databases/d/collections", basic))
	assert.Equal(t, http.StatusUnauthorized, serveAuth(t, h, acme, basic))
	assert.Equal(t, http.StatusUnauthorized, serveAuth(t, h, acme, "Bearer tok-bob-0123"))
	assert.Equal(t, 1, logs.FilterMessage("credentials file is gone; what it held is revoked").Len(), "the users file named twice is logged once")
}

// serveAuth runs one GET through h with the given Authorization header.
func serveAuth(t *testing.T, h *ChromaAuth, target, authorization string) int {
	t.Helper()
	r := auditRequest("GET", target, map[string]string{"Authorization": authorization})
	w := httptest.NewRecorder()
	require.NoError(t, h.ServeHTTP(w, r, okNext))
	return w.Code
}

// jwks_url and issuer with user-info or a query are logged redacted: the
// plain-HTTP warning and a failed fetch name the URL without its secrets.
func TestJWTURLSecretsNeverLogged(t *testing.T) {
	up := newUpstream(t) // answers the JWKS fetch with no keys
	core, logs := observer.New(zap.DebugLevel)
	for _, cfg := range []*JWTConfig{
		{JWKSURL: strings.Replace(up.URL, "http://", "http://user:s3cret@", 1) + "/jwks?api_key=k3y", Audience: []string{"chroma"}},
		{Issuer: strings.Replace(up.URL, "http://", "http://user:s3cret@", 1) + "/realm?api_key=k3y", Audience: []string{"chroma"}},
	} {
		h := &ChromaAuth{Handler: config.Handler{JWT: cfg}, logger: zap.New(core)}
		require.NoError(t, h.provisionJWT())
		h.cleanupJWT()
	}
	require.NotZero(t, logs.Len())
	var all strings.Builder
	for _, e := range logs.All() {
		all.WriteString(e.Message)
		for _, f := range e.Context {
			all.WriteString(" " + f.String)
			if f.Interface != nil {
				if err, ok := f.Interface.(error); ok {
					all.WriteString(" " + err.Error())
				}
			}
		}
		all.WriteString("\n")
	}
	assert.Contains(t, all.String(), "REDACTED")
	assert.NotContains(t, all.String(), "s3cret")
	assert.NotContains(t, all.String(), "k3y")
}
