package chromaauth

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

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
	h := provisioned(t, &ChromaAuth{
		KeysFile:       keysFile,
		JWT:            &JWTConfig{SecretFile: secret, Audience: []string{"chroma"}, CollectionsClaim: "collections"},
		ReloadInterval: -1, FailuresPerMinute: -1,
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
