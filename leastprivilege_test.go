package chromaauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const leastRBAC = `roles_mapping:
  admin:  { actions: [db:create_collection, db:list_collections, collection:get_collection, collection:add, collection:delete] }
  reader: { actions: [db:list_collections, collection:get_collection] }
users:
  - { id: alice, role: reader }
`

// leastHandler: alice is a reader of acme/prod by the RBAC file and the
// users file; carol a reader by the users file alone; dave is in no file.
func leastHandler(t *testing.T, keys ...providers.KeyEntry) (*ChromaAuth, []string, string) {
	t.Helper()
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", `users:
  - id: alice
    tenant: acme
    databases: [prod]
    tokens: [tok-alice-0123]
  - id: carol
    role: reader
    tokens: [tok-carol-0123]
`)
	rbac := writeTestFile(t, dir, "rbac.yaml", leastRBAC)
	secret := writeTestFile(t, dir, "secret", jwtTestSecret)
	keysFile, secrets := writeKeys(t, dir, keys...)
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{
		UsersFile: users, TokenFiles: []string{users}, KeysFile: keysFile, AuthzFile: rbac,
		JWT:            &JWTConfig{SecretFile: secret, Audience: []string{"chroma"}, TenantClaim: "tenant", RoleClaim: "role", DatabasesClaim: "databases"},
		ReloadInterval: -1, FailuresPerMinute: -1,
	},
	})
	return h, secrets, keysFile
}

// leastDo runs one request through h and returns its status and reason.
func leastDo(t *testing.T, h *ChromaAuth, method, target, body, credential string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+credential)
	r.Header.Set("Content-Type", "application/json")
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	r = r.WithContext(ctx)
	repl := caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	require.NoError(t, h.ServeHTTP(w, r, okNext))
	reason, _ := repl.GetString("http.auth.chroma_auth.reason")
	return w.Code, reason
}

// Role escalation: an API key or a JWT issued with role admin acts with no
// more than its user has from the files: the actions of both roles, the
// user's tenant and databases. A user the files do not name keeps the
// issued role and scope.
func TestIssuedCredentialsNeverExceedTheirUser(t *testing.T) {
	h, keys, _ := leastHandler(t,
		providers.KeyEntry{User: "alice", Role: "admin"},
		providers.KeyEntry{User: "carol", Role: "admin"},
		providers.KeyEntry{User: "dave", Role: "admin"})
	jwt := func(sub string, extra map[string]any) string {
		c := jwtClaims("", map[string]any{"sub": sub, "role": "admin", "tenant": "*", "databases": []string{"*"}})
		delete(c, "iss")
		for k, v := range extra {
			c[k] = v
		}
		return signJWT(t, []byte(jwtTestSecret), "HS256", "", c)
	}
	const prod = "/api/v2/tenants/acme/databases/prod/collections"
	const other = "/api/v2/tenants/beta/databases/prod/collections"
	const dev = "/api/v2/tenants/acme/databases/dev/collections"
	create := `{"name":"new"}`
	for _, tc := range []struct {
		name, cred string
		escalates  bool // the issued admin role holds (a user no file names)
		scoped     bool // the user's tenant and databases hold
	}{
		{"key of a reader by the RBAC file", keys[0], false, true},
		{"key of a reader by the users file", keys[1], false, false},
		{"key of a user no file names", keys[2], true, false},
		{"JWT of a reader by the RBAC file", jwt("alice", nil), false, true},
		{"JWT of a reader by the users file", jwt("carol", nil), false, false},
		{"JWT of a user no file names", jwt("dave", nil), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := leastDo(t, h, "POST", prod, create, tc.cred)
			assert.Equal(t, map[bool]int{true: http.StatusOK, false: http.StatusForbidden}[tc.escalates], code, "create a collection (admin only)")
			code, _ = leastDo(t, h, "GET", prod+"/docs", "", tc.cred)
			assert.Equal(t, http.StatusOK, code, "get a collection (both roles)")
			for _, path := range []string{other + "/docs", dev + "/docs"} {
				code, _ = leastDo(t, h, "GET", path, "", tc.cred)
				assert.Equal(t, map[bool]int{true: http.StatusForbidden, false: http.StatusOK}[tc.scoped], code, path)
			}
		})
	}

	// A JWT whose tenant or databases its user has none of is refused.
	for _, extra := range []map[string]any{{"tenant": "beta"}, {"databases": []string{"dev"}}} {
		code, reason := leastDo(t, h, "GET", prod+"/docs", "", jwt("alice", extra))
		assert.Equal(t, http.StatusUnauthorized, code, "%v", extra)
		assert.Equal(t, reasonJWTOutsideUser, reason, "%v", extra)
	}
	// Within its user's scope, a JWT narrows it further.
	code, _ := leastDo(t, h, "GET", prod+"/docs", "", jwt("carol", map[string]any{"tenant": "acme"}))
	assert.Equal(t, http.StatusOK, code)
	code, _ = leastDo(t, h, "GET", other+"/docs", "", jwt("carol", map[string]any{"tenant": "acme"}))
	assert.Equal(t, http.StatusForbidden, code)
	// The files' own credentials are what they say: carol's token is a reader.
	code, _ = leastDo(t, h, "POST", prod, create, "tok-carol-0123")
	assert.Equal(t, http.StatusForbidden, code)
}

// Wider keys are named at load, with their file and line, and what they
// have beyond their user; `caddy chroma-auth check` shows the same.
func TestWiderKeysWarnedAtLoad(t *testing.T) {
	h, _, keysFile := leastHandler(t,
		providers.KeyEntry{User: "alice", Role: "admin"},
		providers.KeyEntry{User: "alice", Tenant: "beta", Expires: time.Now().Add(time.Hour)},
		providers.KeyEntry{User: "dave", Role: "admin"},
		providers.KeyEntry{User: "alice", Role: "reader", Tenant: "acme", Databases: []string{"prod"}})
	pol, warnings, err := h.LoadPolicy(h.src, false)
	require.NoError(t, err)
	assert.Equal(t, 3, pol.Creds.NumKeys(), "the key outside its user's tenant is left out")
	all := strings.Join(warnings, "\n")
	assert.Contains(t, all, keysFile+":1: key ")
	assert.Contains(t, all, `tenant "*" beyond the user's "acme"`)
	assert.Contains(t, all, keysFile+`:1: key `)
	assert.Contains(t, all, `role "admin" grants collection:add, collection:delete, db:create_collection, which user "alice"'s role does not`)
	assert.Contains(t, all, keysFile+":2: key ")
	assert.Contains(t, all, `refused: user "alice"`)
	assert.NotContains(t, all, keysFile+":3:", "dave is in no file")
	assert.NotContains(t, all, keysFile+":4:", "within its user")
	assert.NotContains(t, all, "tok-alice")

	rep := cli.Inspect([]byte(`{"handler":"chroma_auth","users_file":"` + h.UsersFile + `","token_files":["` + h.UsersFile + `"],"keys_file":"` + keysFile + `","authz_file":"` + h.AuthzFile + `"}`))
	assert.Empty(t, rep.Errors)
	assert.Contains(t, strings.Join(rep.Warnings, "\n"), `refused: user "alice"`)
}

// `key create --config` refuses a key wider than its user, naming the user
// and what is wider, and writes nothing; a key within its user, or of a
// user no file names, is made.
func TestKeyCreateRefusesAWiderKey(t *testing.T) {
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", "users:\n  - id: alice\n    tenant: acme\n    databases: [prod]\n    collections: {docs: write}\n    tokens: [tok-alice-0123]\n")
	rbac := writeTestFile(t, dir, "rbac.yaml", leastRBAC)
	keys := dir + "/keys.jsonl"
	caddyfile := writeTestFile(t, dir, "Caddyfile", `:0 {
	chroma_auth {
		users_file `+users+`
		token_file `+users+`
		keys_file  `+keys+`
		authz      `+rbac+`
	}
	reverse_proxy 127.0.0.1:1
}
`)
	create := func(a cli.KeyArgs) (int, string, error) {
		var out, errOut strings.Builder
		a.Op, a.File, a.Config = "create", keys, caddyfile
		code, err := cli.RunKey(cli.IO{Stdout: &out, Stderr: &errOut}, a)
		return code, out.String(), err
	}
	for _, tc := range []struct {
		name string
		args cli.KeyArgs
		want []string
	}{
		{"every tenant", cli.KeyArgs{User: "alice", Databases: "prod", Collections: "docs=read"}, []string{`user "alice"`, `tenant "*" beyond the user's "acme"`}},
		{"another database", cli.KeyArgs{User: "alice", Tenant: "acme", Databases: "prod,dev", Collections: "docs=read"}, []string{`database "dev" beyond`}},
		{"every collection", cli.KeyArgs{User: "alice", Tenant: "acme", Databases: "prod"}, []string{"every collection beyond"}},
		{"a higher level", cli.KeyArgs{User: "alice", Tenant: "acme", Databases: "prod", Collections: "docs=admin"}, []string{"collection grant docs=admin beyond"}},
		{"a wider role", cli.KeyArgs{User: "alice", Tenant: "acme", Databases: "prod", Collections: "docs=read", Role: "admin"}, []string{`role "admin" grants collection:add, collection:delete, db:create_collection, which user "alice"'s role does not`}},
		{"another tenant", cli.KeyArgs{User: "alice", Tenant: "beta"}, []string{`user "alice" has none of the key's scope`, `tenant "beta"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, err := create(tc.args)
			assert.Equal(t, cli.ExitFailed, code)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, out, "no key printed")
			assert.NoFileExists(t, keys, "no key written")
		})
	}
	code, out, err := create(cli.KeyArgs{User: "alice", Tenant: "acme", Databases: "prod", Collections: "docs=read", Role: "reader"})
	require.NoError(t, err)
	assert.Equal(t, cli.ExitOK, code)
	assert.True(t, strings.HasPrefix(out, providers.KeyPrefix))
	code, _, err = create(cli.KeyArgs{User: "dave", Role: "admin"})
	require.NoError(t, err, "a user no file names keeps the issued scope")
	assert.Equal(t, cli.ExitOK, code)

	var o strings.Builder
	code, err = cli.RunKey(cli.IO{Stdout: &o, Stderr: &o}, cli.KeyArgs{Op: "create", File: dir + "/other.jsonl", User: "dave", Config: caddyfile})
	assert.Equal(t, cli.ExitFailed, code)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no chroma_auth handler in "+caddyfile+" reads keys file "+dir+"/other.jsonl")
}
