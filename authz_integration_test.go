package chromaauth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const teamUsers = `users:
  - id: alice@acme
    role: admin
    tenant: acme
    databases: [prod]
    tokens: [tok-acme-admin]
  - id: reader@acme
    role: reader
    tenant: acme
    databases: [prod]
    tokens: [tok-acme-reader]
  - id: bob@beta
    role: admin
    tenant: beta
    databases: ["*"]
    tokens: [tok-beta-admin]
  - id: root
    role: admin
    tokens: [tok-root]
`

const rbacYAML = `roles_mapping:
  admin:
    actions: ["system:reset", "tenant:create_tenant", "tenant:get_tenant", "db:create_database", "db:get_database",
      "db:list_databases", "db:list_collections", "db:create_collection", "db:get_or_create_collection",
      "db:count_collections", "collection:get_collection", "collection:delete_collection", "collection:update_collection",
      "collection:add", "collection:delete", "collection:get", "collection:query", "collection:count",
      "collection:update", "collection:upsert"]
  reader:
    actions: ["tenant:get_tenant", "db:get_database", "db:list_collections", "collection:get_collection",
      "collection:get", "collection:query", "collection:count"]
users:
  - id: reader@acme
    role: reader
`

func forbiddenMessage(t *testing.T, body string) string {
	var e struct{ Error, Message string }
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	assert.Equal(t, "AuthorizationError", e.Error)
	return e.Message
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func TestIdentityEndpointAnsweredByTheGateway(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", teamUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken_file %s\n\t\ttoken plain-token\n\t}\n%s", users, proxyTo(up)))

	cases := map[string]string{
		"tok-acme-admin": `{"user_id":"alice@acme","tenant":"acme","databases":["prod"]}`,
		"tok-root":       `{"user_id":"root","tenant":"default_tenant","databases":["default_database"]}`,
		"plain-token":    `{"user_id":"anonymous","tenant":"default_tenant","databases":["default_database"]}`,
	}
	for tok, want := range cases {
		resp, body := g.do(t, "GET", "/api/v2/auth/identity", bearer(tok))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.JSONEq(t, want, body, tok)
	}
	assert.Empty(t, up.requests(), "the identity endpoint never reaches Chroma")
	resp, body := g.do(t, "GET", "/api/v2/auth/identity", nil)
	assertUnauthorized(t, up, resp, body)
}

func TestScopingKeepsUsersInTheirTenantAndDatabases(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", teamUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))

	allowed := [][2]string{
		{"GET", "/api/v2/tenants/acme"},
		{"GET", "/api/v2/tenants/acme/databases/prod/collections"},
		{"GET", "/api/v2/tenants/acme/databases/prod/collections/my-coll"},
		{"GET", "/api/v2/tenants/acme/databases/prod/collections_count"},
		{"GET", "/api/v2/pre-flight-checks"},
	}
	for _, rq := range allowed {
		resp, body := g.do(t, rq[0], rq[1], bearer("tok-acme-admin"))
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%v: %s", rq, body)
	}
	up.reset()
	denied := [][2]string{
		{"GET", "/api/v2/tenants/beta"},
		{"GET", "/api/v2/tenants/beta/databases/prod/collections"},
		{"GET", "/api/v2/tenants/acme/databases/dev/collections"},
		{"GET", "/api/v2/tenants/acme/databases"},
		{"POST", "/api/v2/reset"},
		{"GET", "/api/v2/collections/beta:prod:coll"},
		{"GET", "/api/v2/tenants/%61cme/databases/dev/collections"},
	}
	for _, rq := range denied {
		resp, body := g.do(t, rq[0], rq[1], bearer("tok-acme-admin"))
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%v: %s", rq, body)
		assert.True(t, strings.HasPrefix(forbiddenMessage(t, body), "Forbidden: "), body)
	}
	assert.Empty(t, up.requests(), "no denied request reached Chroma")

	// A user of every database of tenant beta: any database there, no other tenant.
	resp, _ := g.do(t, "GET", "/api/v2/tenants/beta/databases/anything/collections", bearer("tok-beta-admin"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = g.do(t, "GET", "/api/v2/tenants/acme/databases/prod/collections", bearer("tok-beta-admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	// Root may go anywhere.
	resp, _ = g.do(t, "GET", "/api/v2/tenants/acme/databases/dev/collections", bearer("tok-root"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestCollectionByIDMustLiveInThePathsDatabase(t *testing.T) {
	up := newUpstream(t)
	acmeColl := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	betaColl := "9d1e4c1a-1111-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {acmeColl}, "beta/main": {betaColl}}
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", teamUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))

	resp, body := g.do(t, "POST", "/api/v2/tenants/acme/databases/prod/collections/"+acmeColl+"/get", bearer("tok-acme-admin"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	// Another tenant's collection id through acme's own path: Chroma 1.0
	// would serve it, the gateway must not.
	up.reset()
	resp, body = g.do(t, "POST", "/api/v2/tenants/acme/databases/prod/collections/"+betaColl+"/get", bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	for _, seen := range up.requests() {
		assert.NotContains(t, seen.URI, betaColl, "the foreign collection was never asked for")
	}
	resp, _ = g.do(t, "POST", "/api/v2/tenants/acme/databases/prod/collections/not-a-uuid/get", bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	listings := func() int {
		n := 0
		for _, s := range up.requests() {
			if strings.HasPrefix(s.URI, "/api/v2/tenants/acme/databases/prod/collections?") {
				n++
			}
		}
		return n
	}
	// Made-up ids in a burst: they share listings, at most one per
	// database and relist interval (the first burst's, and one more for
	// those that came after it).
	up.reset()
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func(i int) { // no require off the test goroutine: codes are checked below
			defer wg.Done()
			req, _ := http.NewRequest("POST", g.URL+fmt.Sprintf("/api/v2/tenants/acme/databases/prod/collections/%08d-7d41-4b0a-9a53-5f2c1a9e8b77/get", i), nil)
			req.Header.Set("Authorization", "Bearer tok-acme-admin")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}
		}(i)
	}
	wg.Wait()
	for i, c := range codes {
		assert.Equal(t, http.StatusForbidden, c, "made-up id %d", i)
	}
	// One listing per relist interval (2 s) at most, whatever the number
	// of made-up ids.
	assert.GreaterOrEqual(t, up.spacedListings(t, "acme", "prod", time.Second), 1, "unknown ids do not each cost a listing")

	// A collection the user just created is known from the create answer:
	// used by id at once, with no listing, even inside the relist interval.
	up.reset()
	resp, body = g.doBody(t, "POST", "/api/v2/tenants/acme/databases/prod/collections", `{"name":"new"}`, bearer("tok-acme-admin"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	resp, body = g.do(t, "POST", "/api/v2/tenants/acme/databases/prod/collections/"+created.ID+"/add", bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Zero(t, listings())
}

func TestRBACAndPlaceholders(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", teamUsers)
	rbac := writeTestFile(t, dir, "rbac.yaml", rbacYAML)
	g := startGateway(t, fmt.Sprintf(`	chroma_auth {
		token_file %s
		authz %s
	}
	reverse_proxy %s {
		header_up X-Chroma-User {http.auth.user.id}
		header_up X-Chroma-Tenant {http.auth.user.tenant}
		header_up X-Chroma-Role {http.auth.user.role}
		header_up X-Chroma-Action {http.chroma_auth.action}
	}`, users, rbac, strings.TrimPrefix(up.URL, "http://")))

	coll := "/api/v2/tenants/acme/databases/prod/collections/my-coll"
	resp, body := g.do(t, "GET", coll, bearer("tok-acme-reader"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = g.doBody(t, "POST", "/api/v2/tenants/acme/databases/prod/collections", `{"name":"x"}`, bearer("tok-acme-reader"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "Forbidden: db:create_collection", forbiddenMessage(t, body))

	req, err := http.NewRequest("POST", g.URL+"/api/v2/tenants/acme/databases/prod/collections", strings.NewReader(`{"name":"x","get_or_create":true}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer tok-acme-reader")
	r2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, http.StatusForbidden, r2.StatusCode)

	resp, body = g.doBody(t, "POST", "/api/v2/tenants/acme/databases/prod/collections", `{"name":"x"}`, bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	// unknown routes are denied when RBAC is on, even for admins
	resp, body = g.do(t, "GET", "/api/v2/some-new-endpoint", bearer("tok-root"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)

	seen := up.requests()
	require.Len(t, seen, 2)
	assert.Equal(t, "reader@acme", seen[0].User)
	assert.Equal(t, "acme", seen[0].Tenant)
	assert.Equal(t, "reader", seen[0].Role, "role from the RBAC file")
	assert.Equal(t, "collection:get_collection", seen[0].Action)
	assert.Equal(t, "alice@acme", seen[1].User)
	assert.Equal(t, "admin", seen[1].Role, "role from the users file")
	assert.Equal(t, "db:create_collection", seen[1].Action)
	assert.Equal(t, `{"name":"x"}`, seen[1].Body, "the body Chroma receives is the one sent")
}

func TestSingletonOverwriteSendsDefaultsToTheUsersOwn(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", teamUsers)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth token_file %s\n%s", users, proxyTo(up)))

	resp, body := g.do(t, "GET", "/api/v2/tenants/default_tenant/databases/default_database/collections?limit=5", bearer("tok-acme-admin"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = g.do(t, "GET", "/api/v2/tenants/default_tenant/databases/default_database/collections", bearer("tok-beta-admin"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = g.do(t, "GET", "/api/v2/tenants/default_tenant/databases/default_database/collections", bearer("tok-root"))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	seen := up.requests()
	require.Len(t, seen, 3)
	assert.Equal(t, "/api/v2/tenants/acme/databases/prod/collections?limit=5", seen[0].URI, "one tenant, one database: both rewritten")
	assert.Equal(t, "/api/v2/tenants/beta/databases/default_database/collections", seen[1].URI, "every database of beta: tenant only")
	assert.Equal(t, "/api/v2/tenants/default_tenant/databases/default_database/collections", seen[2].URI, "unscoped: untouched")
	up.reset()

	g2 := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken_file %s\n\t\tno_singleton_overwrite\n\t}\n%s", users, proxyTo(up)))
	resp, body = g2.do(t, "GET", "/api/v2/tenants/default_tenant/databases/default_database/collections", bearer("tok-acme-admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	assert.Empty(t, up.requests())
}
