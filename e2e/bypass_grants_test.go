package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crafted is one request of the bypass suites below, sent through a
// gateway whose upstream is a recorder in front of the real Chroma.
type crafted struct {
	name, method, path, token, body string
	// want is the status; forwarded says whether the request itself must
	// reach the upstream (Chroma 1.0 then answers 404 or 501 for routes it
	// does not have) or be answered by the gateway before forwarding.
	want      int
	forwarded bool
}

func runCrafted(t *testing.T, c *gwClient, rec *recorder, cases []crafted) {
	t.Helper()
	for _, tc := range cases {
		path, _, _ := strings.Cut(tc.path, "?") // the recorder keeps no query
		before := len(rec.matching(tc.method, path))
		a := c.do(tc.method, tc.path, tc.token, tc.body)
		got := len(rec.matching(tc.method, path)) - before
		assert.Equal(t, tc.want, a.status, "%s: %s", tc.name, a)
		if tc.forwarded {
			assert.True(t, a.upstream(), "%s: must be Chroma's answer: %s", tc.name, a)
			assert.Equal(t, 1, got, "%s: forwarded once", tc.name)
			continue
		}
		assert.False(t, a.upstream(), "%s: must be the gateway's answer", tc.name)
		assert.Zero(t, got, "%s: must not reach the upstream", tc.name)
		if a.status == http.StatusForbidden {
			assert.Contains(t, string(a.body), `"error":"AuthorizationError"`, tc.name)
		}
	}
}

// bodyRBAC gives "updater" only collection:update (and what a client needs
// to find its collection), and "admin" every collection action.
const bodyRBAC = `roles_mapping:
  updater:
    actions: [collection:get_collection, collection:update]
  admin:
    actions: [db:list_collections, db:create_collection, collection:get_collection, collection:update_collection,
      collection:add, collection:update, collection:upsert, collection:delete, collection:get, collection:count,
      collection:create_attached_function, collection:remove_attached_function]
users:
  - { id: updater, role: updater }
  - { id: admin, role: admin }
  - { id: rbac-admin, role: admin }
  - { id: granted-updater, role: updater }
  - { id: granted-reader, role: admin }
`

// TestBypassBodyActions is issue 12 points 2 to 4 through the real binary:
// what a body asks for is checked before anything is forwarded. Chroma 1.0
// has none of these routes, so an allowed request is Chroma's 404; a
// refused one never reaches it (the recorder in between shows it).
func TestBypassBodyActions(t *testing.T) {
	tenant, other := uniqueName("bodyact"), uniqueName("bodyother")
	createTenantAndDatabases(t, tenant, "prod")
	createTenantAndDatabases(t, other, "main")
	prod := chromaDirectAt(t, tenant, "prod")
	ownID := prod.createCollection("own", map[string][]float32{"a": {1, 0, 0}})
	own2ID := prod.createCollection("own-2", map[string][]float32{"a": {1, 0, 0}})
	theirsID := chromaDirectAt(t, other, "main").createCollection("theirs", map[string][]float32{"t": {0, 1, 0}})

	updater, admin, rbacAdmin := "upd-"+randomHex(8), "adm-"+randomHex(8), "rba-"+randomHex(8)
	grantedUpd, grantedRead := "gup-"+randomHex(8), "grd-"+randomHex(8)
	db := []string{"prod"}
	users := writeUsers(t,
		tokenUser{id: "updater", token: updater, tenant: tenant, databases: db},
		tokenUser{id: "admin", token: admin, tenant: tenant, databases: db},
		tokenUser{id: "rbac-admin", token: rbacAdmin},
		// RBAC and grants both apply: each of these has what the other lacks.
		tokenUser{id: "granted-updater", token: grantedUpd, tenant: tenant, databases: db, collections: map[string]string{"own*": "admin"}},
		tokenUser{id: "granted-reader", token: grantedRead, tenant: tenant, databases: db, collections: map[string]string{"own": "read"}})
	rbac := filepath.Join(t.TempDir(), "rbac.yaml")
	require.NoError(t, os.WriteFile(rbac, []byte(bodyRBAC), 0o600))
	rec := startRecorder(t, suite.chroma.url)
	c := newGWClient(t, startGatewayTo(t, rec.addr(), "", "chroma_auth {\n\t\ttoken_file "+users+"\n\t\tauthz "+rbac+"\n\t}"))

	commit := collPath(tenant, "prod", ownID, "/conditional/commit")
	ops := func(kinds ...string) string {
		list := make([]string, len(kinds))
		for i, k := range kinds {
			list[i] = `{"operation":"` + k + `","ids":["x"],"embeddings":[[1,0,0]]}`
		}
		return `{"operations":[` + strings.Join(list, ",") + `]}`
	}
	addInput := collPath(tenant, "prod", ownID, "/attached_functions/fn/add_input")
	detach := "/api/v2/tenants/" + tenant + "/databases/prod/attached_functions/" + newUUID() + "/detach"
	runCrafted(t, c, rec, []crafted{
		{"commit: add by a role with only collection:update", "POST", commit, updater, ops("add"), 403, false},
		{"commit: delete by a role with only collection:update", "POST", commit, updater, ops("delete"), 403, false},
		{"commit: upsert by a role with only collection:update", "POST", commit, updater, ops("upsert"), 403, false},
		{"commit: update then add", "POST", commit, updater, ops("update", "add"), 403, false},
		{"commit: update only (allowed: Chroma 1.0 has no such route)", "POST", commit, updater, ops("update"), 404, true},
		{"commit: every operation by the admin role", "POST", commit, admin, ops("add", "update", "upsert", "delete"), 404, true},
		{"commit: not JSON", "POST", commit, admin, `{"operations":[`, 400, false},
		{"commit: a list, not an object", "POST", commit, admin, `[]`, 400, false},
		{"commit: operations not a list", "POST", commit, admin, `{"operations":"add"}`, 400, false},
		{"commit: unknown operation", "POST", commit, admin, `{"operations":[{"operation":"drop"}]}`, 400, false},
		{"commit: operation not an object", "POST", commit, admin, `{"operations":[1]}`, 400, false},
		{"commit: no body", "POST", commit, admin, "", 400, false},
		{"commit: trailing data", "POST", commit, admin, ops("update") + `{"operations":[]}`, 400, false},
		{"add_input: another tenant's collection", "POST", addInput, admin, `{"input_collection_id":"` + theirsID + `"}`, 403, false},
		{"add_input: another tenant's collection, braced id", "POST", addInput, admin, `{"input_collection_id":"{` + theirsID + `}"}`, 403, false},
		{"add_input: an id that exists nowhere", "POST", addInput, admin, `{"input_collection_id":"` + newUUID() + `"}`, 403, false},
		{"add_input: not a string", "POST", addInput, admin, `{"input_collection_id":5}`, 400, false},
		{"add_input: missing", "POST", addInput, admin, `{}`, 400, false},
		{"add_input: own collection (allowed)", "POST", addInput, admin, `{"input_collection_id":"` + own2ID + `"}`, 404, true},
		{"detach by id: scoped user", "POST", detach, admin, `{"delete_output":true}`, 403, false},
		{"detach by id: RBAC user of every tenant", "POST", detach, rbacAdmin, `{"delete_output":true}`, 403, false},
		{"grant admin, role without add: commit add", "POST", commit, grantedUpd, ops("add"), 403, false},
		{"grant admin, role without update_collection: rename", "PUT", collPath(tenant, "prod", ownID, ""), grantedUpd, `{"new_name":"own-x"}`, 403, false},
		{"role admin, grant read: commit add", "POST", commit, grantedRead, ops("add"), 403, false},
		{"role admin, grant read: add", "POST", collPath(tenant, "prod", ownID, "/add"), grantedRead, `{"ids":["y"],"embeddings":[[1,0,0]]}`, 403, false},
		{"role admin, grant read: commit without operations is a read", "POST", commit, grantedRead, `{"operations":[]}`, 404, true},
		{"role admin, grant read: count", "GET", collPath(tenant, "prod", ownID, "/count"), grantedRead, "", 200, true},
	})
	assert.Equal(t, []string{"a"}, prod.ids(ownID), "nothing written")
	assert.Equal(t, ownID, prod.collectionID("own"), "not renamed")
}

// TestBypassGrants: crafted requests against collection grants (issue 13)
// through the real binary in front of the real Chroma.
func TestBypassGrants(t *testing.T) {
	e := &grantsEnv{tenant: uniqueName("bpgrants"), ids: map[string]string{}}
	createTenantAndDatabases(t, e.tenant, "prod")
	e.oracle = chromaDirectAt(t, e.tenant, "prod")
	for _, name := range []string{"docs", "secret", "team-x", "bot-a"} {
		e.ids[name] = e.oracle.createCollection(name, map[string][]float32{name + "-doc": {1, 0, 0}})
	}
	reader, writer, admin, full := "r-"+randomHex(8), "w-"+randomHex(8), "a-"+randomHex(8), "f-"+randomHex(8)
	db := []string{"prod"}
	users := writeUsers(t,
		tokenUser{id: "reader", token: reader, tenant: e.tenant, databases: db, collections: map[string]string{"docs": "read"}},
		tokenUser{id: "writer", token: writer, tenant: e.tenant, databases: db, collections: map[string]string{"team-*": "write"}},
		tokenUser{id: "admin", token: admin, tenant: e.tenant, databases: db,
			collections: map[string]string{"bot-*": "admin", "docs": "read"}},
		tokenUser{id: "full", token: full})
	rec := startRecorder(t, suite.chroma.url)
	// A short name TTL, so that a rename made past the gateway is seen
	// quickly (the default is 10 s).
	e.g = startGatewayTo(t, rec.addr(), "", "chroma_auth {\n\t\ttoken_file "+users+"\n\t\tcollection_name_ttl 1s\n\t}")
	e.c = newGWClient(t, e.g)
	byID := func(name, rest string) string { return e.path(e.ids[name], rest) }

	t.Run("renames, forks and creates that would steal a name", func(t *testing.T) {
		runCrafted(t, e.c, rec, []crafted{
			{"rename a granted collection to a read-only name", "PUT", byID("bot-a", ""), admin, `{"new_name":"docs"}`, 403, false},
			{"rename a granted collection outside every grant", "PUT", byID("bot-a", ""), admin, `{"new_name":"stolen"}`, 403, false},
			{"rename, the new name in unicode escapes", "PUT", byID("bot-a", ""), admin, `{"new_name":"\u0073tolen"}`, 403, false},
			{"rename, the bad name last of two", "PUT", byID("bot-a", ""), admin, `{"new_name":"bot-ok","new_name":"stolen"}`, 403, false},
			{"rename a read-only collection into the admin glob", "PUT", byID("docs", ""), admin, `{"new_name":"bot-docs"}`, 403, false},
			{"rename a write collection", "PUT", byID("team-x", ""), writer, `{"new_name":"team-y"}`, 403, false},
			{"rename with a body that is not JSON", "PUT", byID("bot-a", ""), admin, `{"new_name":`, 400, false},
			{"fork into a hidden name", "POST", byID("bot-a", "/fork"), admin, `{"new_name":"secret-fork"}`, 403, false},
			{"fork a read-only collection into the admin glob", "POST", byID("docs", "/fork"), admin, `{"new_name":"bot-fork"}`, 403, false},
			{"fork by a reader", "POST", byID("docs", "/fork"), reader, `{"new_name":"docs-fork"}`, 403, false},
			{"fork inside the glob (allowed: Chroma 1.0 local answers 501)", "POST", byID("bot-a", "/fork"), admin, `{"new_name":"bot-fork"}`, 501, true},
			{"get_or_create of a read-only name", "POST", e.path("", ""), reader, `{"name":"docs","get_or_create":true}`, 403, false},
			{"create by the admin outside its glob", "POST", e.path("", ""), admin, `{"name":"secret","get_or_create":true}`, 403, false},
			{"delete a read-only collection", "DELETE", e.path("docs", ""), admin, "", 403, false},
			{"a hidden name with an escaped letter", "GET", e.path("", "/sec%72et"), reader, "", 403, false},
			{"a hidden collection via the v1 API", "GET", "/api/v1/collections/secret?tenant=" + e.tenant + "&database=prod", reader, "", 403, false},
			{"the v1 listing", "GET", "/api/v1/collections?tenant=" + e.tenant + "&database=prod", reader, "", 403, false},
			{"a listing with a trailing slash", "GET", e.path("", "/"), reader, "", 403, false},
			{"a listing with limit twice", "GET", e.path("", "?limit=1&limit=100"), reader, "", 400, false},
			{"a listing with a negative offset", "GET", e.path("", "?offset=-1"), reader, "", 400, false},
			{"delete a database", "DELETE", "/api/v2/tenants/" + e.tenant + "/databases/prod", admin, "", 403, false},
			{"create a database", "POST", "/api/v2/tenants/" + e.tenant + "/databases", admin, `{"name":"bot-db"}`, 403, false},
			{"reset", "POST", "/api/v2/reset", admin, "", 403, false},
			{"a hidden name with a trailing slash", "GET", e.path("secret", "/"), reader, "", 403, false},
			{"a hidden name behind a dot-dot segment", "GET", e.path("", "/docs/../secret"), reader, "", 403, false},
			{"a hidden name behind an escaped slash", "GET", e.path("", "/docs%2F..%2Fsecret"), reader, "", 403, false},
			{"a hidden name behind a doubled slash", "GET", e.path("", "//secret"), reader, "", 403, false},
			{"a hidden CRN with escaped colons", "GET", "/api/v2/collections/" + e.tenant + "%3Aprod%3Asecret", reader, "", 403, false},
			{"a hidden id through the v1 API", "POST", "/api/v1/collections/" + e.ids["secret"] + "/get", reader, "{}", 403, false},
			{"a hidden id upper-cased", "POST", e.path(strings.ToUpper(e.ids["secret"]), "/get"), reader, "{}", 403, false},
			{"a hidden id in a body-less count with a query", "GET", e.path(strings.ToUpper(e.ids["secret"]), "/count") + "?x=1", reader, "", 403, false},
		})
		for _, name := range []string{"stolen", "bot-docs", "team-y", "secret-fork", "bot-fork", "docs-fork", "bot-ok"} {
			assert.Empty(t, e.oracle.collectionID(name), "%s must not exist", name)
		}
		for _, name := range []string{"docs", "secret", "team-x", "bot-a"} {
			assert.Equal(t, e.ids[name], e.oracle.collectionID(name), "%s keeps its name", name)
		}
	})

	t.Run("a deleted and re-created collection: the old id is gone, the new works", func(t *testing.T) {
		a := e.c.do(http.MethodPost, e.path("", ""), admin, `{"name":"bot-tmp"}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a)
		oldID := e.oracle.collectionID("bot-tmp")
		require.Equal(t, http.StatusOK, e.c.do(http.MethodGet, e.path(oldID, "/count"), admin, "").status)
		require.Equal(t, http.StatusOK, e.c.do(http.MethodDelete, e.path("bot-tmp", ""), admin, "").status)
		require.Equal(t, http.StatusOK, e.c.do(http.MethodPost, e.path("", ""), admin, `{"name":"bot-tmp"}`).status)
		newID := e.oracle.collectionID("bot-tmp")
		require.NotEqual(t, oldID, newID)
		assert.NotEqual(t, http.StatusOK, e.c.do(http.MethodGet, e.path(oldID, "/count"), admin, "").status, "old id")
		assert.Equal(t, http.StatusOK, e.c.do(http.MethodGet, e.path(newID, "/count"), admin, "").status, "new id")
		assert.Equal(t, http.StatusForbidden, e.c.do(http.MethodGet, e.path(newID, "/count"), reader, "").status, "reader, new id")
	})

	t.Run("an id whose collection was renamed away grants nothing", func(t *testing.T) {
		// The reader's docs, learned by the gateway; then a user of every
		// collection renames it, through the same gateway, to a name the
		// reader may not see. The id now names a hidden collection.
		oldID := e.ids["docs"]
		require.Equal(t, http.StatusOK, e.c.do(http.MethodGet, e.path(oldID, "/count"), reader, "").status)
		a := e.c.do(http.MethodPut, e.path(oldID, ""), full, `{"new_name":"docs-archived"}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a)
		require.Equal(t, oldID, e.oracle.collectionID("docs-archived"))

		a = e.c.do(http.MethodPost, e.path(oldID, "/get"), reader, `{}`)
		assert.Equal(t, http.StatusForbidden, a.status, "old id, now docs-archived: %s", a)
		assert.NotContains(t, string(a.body), "docs-doc", "docs-archived's records")
	})

	t.Run("an id whose collection was renamed past the gateway grants nothing", func(t *testing.T) {
		// The same, with the rename made on Chroma directly (as another
		// gateway in front of the same Chroma, or an operator, would).
		id := e.ids["team-x"]
		require.Equal(t, http.StatusOK, e.c.do(http.MethodGet, e.path(id, "/count"), writer, "").status)
		require.Equal(t, http.StatusOK, e.oracle.do(http.MethodPut, "/collections/"+id, map[string]any{"new_name": "payroll"}, nil))
		renamed := time.Now()

		// The old name is trusted for collection_name_ttl (1 s), no longer.
		var a answer
		pollUntil(t, renamed, 4*time.Second, func() bool {
			a = e.c.do(http.MethodPost, e.path(id, "/get"), writer, `{}`)
			return a.status != http.StatusOK
		})
		assert.Equal(t, http.StatusForbidden, a.status, "team-x's id, now payroll: %s", a)
		a = e.c.do(http.MethodPost, e.path(id, "/delete"), writer, `{"ids":["team-x-doc"]}`)
		assert.Equal(t, http.StatusForbidden, a.status, "deleting payroll's records: %s", a)
		assert.Equal(t, []string{"team-x-doc"}, e.oracle.ids(id), "payroll unchanged")
	})

	t.Run("a collection made just after a listing is found by id", func(t *testing.T) {
		// An unknown id makes the gateway list the database; a collection
		// made right after (here directly on Chroma, as another gateway
		// or client would) must be found when asked for by id, not
		// refused until the next listing is allowed.
		a := e.c.do(http.MethodGet, e.path(newUUID(), "/count"), reader, "")
		require.Equal(t, http.StatusForbidden, a.status, "%s", a)
		newID := e.oracle.createCollection("docs", map[string][]float32{"new-doc": {0, 1, 0}})
		a = e.c.do(http.MethodGet, e.path(newID, "/count"), reader, "")
		assert.Equal(t, http.StatusOK, a.status, "the new docs by id: %s", a)
	})
}
