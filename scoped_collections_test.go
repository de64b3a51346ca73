package chromaauth

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// An identity of every tenant and database with only some collections (a
// key made without --tenant, a JWT with a collections claim and no tenant
// claim) is scoped all the same: refused other collections, collection
// deletes it has no admin grant for, and routes the gateway does not know.
func TestEveryTenantButSomeCollectionsIsScoped(t *testing.T) {
	g, err := providers.NewGrants(map[string]string{"docs": "read"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keysFile, keys := writeKeys(t, dir, providers.KeyEntry{User: "bot", Collections: g})
	secret := writeTestFile(t, dir, "secret", jwtTestSecret)
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{
		KeysFile:       keysFile,
		JWT:            &JWTConfig{SecretFile: secret, Audience: []string{"chroma"}, CollectionsClaim: "collections"},
		ReloadInterval: -1, FailuresPerMinute: -1,
	},
	})
	claims := jwtClaims("", map[string]any{"sub": "bot", "collections": map[string]any{"docs": "read"}})
	delete(claims, "iss")
	jwt := signJWT(t, []byte(jwtTestSecret), "HS256", "", claims)
	const base = "/api/v2/tenants/any/databases/db/collections"
	for name, cred := range map[string]string{"key": keys[0], "jwt": jwt} {
		t.Run(name, func(t *testing.T) {
			code, _ := leastDo(t, h, "GET", base+"/docs", "", cred)
			assert.Equal(t, http.StatusOK, code, "its collection")
			code, _ = leastDo(t, h, "GET", base+"/billing", "", cred)
			assert.Equal(t, http.StatusForbidden, code, "another collection")
			code, _ = leastDo(t, h, "POST", base+"/billing/get", "{}", cred)
			assert.Equal(t, http.StatusForbidden, code, "another collection's records")
			code, _ = leastDo(t, h, "DELETE", base+"/docs", "", cred)
			assert.Equal(t, http.StatusForbidden, code, "a collection delete (read only)")
			code, _ = leastDo(t, h, "DELETE", base+"/billing", "", cred)
			assert.Equal(t, http.StatusForbidden, code, "another collection's delete")
			code, _ = leastDo(t, h, "GET", "/api/v2/no/such/route", "", cred)
			assert.Equal(t, http.StatusForbidden, code, "a route the gateway does not know")
			code, _ = leastDo(t, h, "POST", "/api/v2/tenants", `{"name":"x"}`, cred)
			assert.Equal(t, http.StatusForbidden, code, "a tenant change")
		})
	}
}

// Through the gateway: a commit mixing add and delete under a role with
// only collection:add is refused and never reaches Chroma; one of adds
// alone passes.
func TestMixedCommitRefusedThroughGateway(t *testing.T) {
	dir := t.TempDir()
	rbac := writeTestFile(t, dir, "rbac.yaml", "roles_mapping:\n  adder: { actions: [collection:add] }\nusers:\n  - { id: anonymous, role: adder }\n")
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{Tokens: []string{"tok-adder-0123"}, AuthzFile: rbac, ReloadInterval: -1, FailuresPerMinute: -1}})
	cp := "/api/v2/tenants/acme/databases/prod/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77/conditional/commit"
	code, _ := leastDo(t, h, "POST", cp, `{"operations":[{"operation":"add"},{"operation":"delete"}]}`, "tok-adder-0123")
	assert.Equal(t, http.StatusForbidden, code)
	code, _ = leastDo(t, h, "POST", cp, `{"operations":[{"operation":"add"}]}`, "tok-adder-0123")
	assert.Equal(t, http.StatusOK, code)
}
