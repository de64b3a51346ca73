package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	chhttp "github.com/amikos-tech/chroma-go/pkg/commons/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scopedUsers is a Chroma users file (for token_file) and an RBAC file
// (for authz): two users of one tenant's "prod" database, an admin and a
// reader, and an admin of another tenant.
const scopedUsers = `users:
  - id: admin@acme
    role: admin
    tenant: %[1]s
    databases: [prod]
    tokens: [%[3]s]
  - id: reader@acme
    role: reader
    tenant: %[1]s
    databases: [prod]
    tokens: [%[4]s]
  - id: admin@globex
    role: admin
    tenant: %[2]s
    databases: [main]
    tokens: [%[5]s]
`

const scopedRBAC = `roles_mapping:
  admin:
    actions: [tenant:get_tenant, db:get_database, db:list_collections, db:count_collections,
      db:create_collection, db:get_or_create_collection, collection:get_collection,
      collection:update_collection, collection:delete_collection, collection:add,
      collection:delete, collection:get, collection:query, collection:count,
      collection:update, collection:upsert]
  reader:
    actions: [tenant:get_tenant, db:get_database, db:list_collections, db:count_collections,
      collection:get_collection, collection:get, collection:query, collection:count]
users:
  - { id: admin@acme, role: admin }
  - { id: reader@acme, role: reader }
  - { id: admin@globex, role: admin }
`

// TestAuthorization is issue 4 with the real Chroma and real clients:
// users scoped to a tenant and database by Chroma's users file, roles
// enforced by Chroma's RBAC file, and the identity endpoint that decides
// where the JS client lands.
func TestAuthorization(t *testing.T) {
	eachChroma(t, func(t *testing.T, _ *chromaServer) { authorizationSuite(t) })
}

func authorizationSuite(t *testing.T) {
	acme, globex := uniqueName("acme"), uniqueName("globex")
	createTenantAndDatabases(t, acme, "prod", "dev")
	createTenantAndDatabases(t, globex, "main")
	adminTok, readerTok, globexTok := "acme-admin-"+randomHex(8), "acme-reader-"+randomHex(8), "globex-"+randomHex(8)

	dir := t.TempDir()
	users := filepath.Join(dir, "users.yaml")
	rbac := filepath.Join(dir, "rbac.yaml")
	require.NoError(t, os.WriteFile(users, fmt.Appendf(nil, scopedUsers, acme, globex, adminTok, readerTok, globexTok), 0o600))
	require.NoError(t, os.WriteFile(rbac, []byte(scopedRBAC), 0o600))
	g := startGateway(t, "chroma_auth {\n\t\ttoken_file "+users+"\n\t\tauthz "+rbac+"\n\t}")

	admin := credential{kind: credBearer, token: adminTok}
	reader := credential{kind: credBearer, token: readerTok}
	prod := chromaDirectAt(t, acme, "prod")
	name := uniqueName("acme-docs")
	t.Cleanup(func() { prod.deleteCollection(name) })

	t.Run("an admin can create and add", func(t *testing.T) {
		c := newGoClient(t, g, admin.goAuth(), chroma.WithDatabaseAndTenant("prod", acme))
		col, err := c.CreateCollection(t.Context(), name, chroma.WithEmbeddingFunctionCreate(noModelEF()))
		require.NoError(t, err)
		require.NoError(t, col.Add(t.Context(), chroma.WithIDs("a", "b"), chroma.WithTexts("a", "b"),
			chroma.WithEmbeddings(emb(1, 0, 0), emb(0, 1, 0))))
		assert.Equal(t, []string{"a", "b"}, prod.ids(prod.collectionID(name)))
	})

	t.Run("a reader can read but not add", func(t *testing.T) {
		c := newGoClient(t, g, reader.goAuth(), chroma.WithDatabaseAndTenant("prod", acme))
		col, err := c.GetCollection(t.Context(), name, chroma.WithEmbeddingFunctionGet(noModelEF()))
		require.NoError(t, err)
		n, err := col.Count(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		res, err := col.Query(t.Context(), chroma.WithQueryEmbeddings(emb(0, 1, 0)), chroma.WithNResults(1))
		require.NoError(t, err)
		assert.Equal(t, chroma.DocumentIDs{"b"}, res.GetIDGroups()[0])

		err = col.Add(t.Context(), chroma.WithIDs("c"), chroma.WithTexts("c"), chroma.WithEmbeddings(emb(0, 0, 1)))
		requireForbidden(t, err, "Add")
		_, err = c.CreateCollection(t.Context(), uniqueName("reader-made"), chroma.WithEmbeddingFunctionCreate(noModelEF()))
		requireForbidden(t, err, "CreateCollection")
		err = c.DeleteCollection(t.Context(), name)
		requireForbidden(t, err, "DeleteCollection")

		var js struct {
			Count int    `json:"count"`
			Add   string `json:"add"`
		}
		runJS(t, g, "js/scoped.mjs", &js, reader, "ADD_TO="+name, "TENANT="+acme, "DATABASE=prod")
		assert.Equal(t, 2, js.Count)
		assert.Equal(t, "ChromaForbiddenError", js.Add)

		assert.Equal(t, []string{"a", "b"}, prod.ids(prod.collectionID(name)), "nothing was added")
	})

	t.Run("the JS client with only a token lands in the user's database", func(t *testing.T) {
		// CloudClient sends its token as X-Chroma-Token.
		gx := startGateway(t, "chroma_auth {\n\t\ttoken_file "+users+"\n\t\ttoken_header X-Chroma-Token\n\t\tauthz "+rbac+"\n\t}")
		landed := uniqueName("landed")
		t.Cleanup(func() { prod.deleteCollection(landed) })
		var out struct {
			Created  string `json:"created"`
			Tenant   string `json:"tenant"`
			Database string `json:"database"`
		}
		runJS(t, gx, "js/scoped.mjs", &out, credential{}, "CLIENT=cloud", "TOKEN="+adminTok, "CREATE="+landed)
		assert.Equal(t, acme, out.Tenant)
		assert.Equal(t, "prod", out.Database)
		assert.Equal(t, out.Created, prod.collectionID(landed), "the collection is in %s/prod", acme)
		assert.Empty(t, chromaDirect(t).collectionID(landed), "and not in the default database")
	})

	t.Run("the example clients work for a scoped user given its tenant and database", func(t *testing.T) {
		goSnippet := goSnippetRunner(t)
		snippets := map[string]func(t *testing.T, env []string) ([]byte, error){
			"js": runJSSnippet, "go": goSnippet, "curl": runCurlSnippet,
		}
		for snippet, run := range snippets {
			coll := uniqueName("snippet-" + snippet)
			t.Cleanup(func() { prod.deleteCollection(coll) })
			out, err := run(t, []string{
				"CHROMA_URL=" + g.url, "CHROMA_CA_CERT=" + g.caRoot, "NODE_EXTRA_CA_CERTS=" + g.caRoot,
				"CHROMA_TOKEN=" + adminTok, "CHROMA_TENANT=" + acme, "CHROMA_DATABASE=prod",
				"CHROMA_COLLECTION=" + coll,
			})
			require.NoError(t, err, "%s: %s", snippet, out)
			assert.Contains(t, string(out), "count: 2", snippet)
			assert.Contains(t, string(out), "deleted: "+coll, snippet)
		}
	})

	t.Run("a user of one tenant cannot see another's collections", func(t *testing.T) {
		main := chromaDirectAt(t, globex, "main")
		theirs := uniqueName("globex-secret")
		theirsID := main.createCollection(theirs, map[string][]float32{"x": {1, 1, 1}})
		t.Cleanup(func() { main.deleteCollection(theirs) })

		other := newGoClient(t, g, admin.goAuth(), chroma.WithDatabaseAndTenant("main", globex))
		_, err := other.ListCollections(t.Context())
		requireForbidden(t, err, "ListCollections in the other tenant")
		_, err = other.GetCollection(t.Context(), theirs, chroma.WithEmbeddingFunctionGet(noModelEF()))
		requireForbidden(t, err, "GetCollection in the other tenant")

		ownTenantOtherDB := newGoClient(t, g, admin.goAuth(), chroma.WithDatabaseAndTenant("dev", acme))
		_, err = ownTenantOtherDB.ListCollections(t.Context())
		requireForbidden(t, err, "ListCollections in a database not granted")

		// The other tenant's collection id through the user's own path, and
		// by its CRN: Chroma 1.x finds collections by id alone.
		tricks := []struct{ method, path string }{
			{http.MethodPost, "/api/v2/tenants/" + acme + "/databases/prod/collections/" + theirsID + "/get"},
			{http.MethodGet, "/api/v2/tenants/" + acme + "/databases/prod/collections/" + theirsID + "/count"},
			{http.MethodGet, "/api/v2/collections/" + globex + ":main:" + theirs},
		}
		for _, tr := range tricks {
			var body any
			if tr.method == http.MethodPost {
				body = map[string]any{}
			}
			status, out := curl(t, g, admin, tr.method, tr.path, body)
			assert.Equal(t, http.StatusForbidden, status, "%s %s: %s", tr.method, tr.path, short(out))
			assert.NotContains(t, string(out), `"x"`, tr.path)
		}

		// The other tenant's own admin does see it.
		theirClient := newGoClient(t, g, credential{kind: credBearer, token: globexTok}.goAuth(),
			chroma.WithDatabaseAndTenant("main", globex))
		cols, err := theirClient.ListCollections(t.Context())
		require.NoError(t, err)
		require.Len(t, cols, 1)
		assert.Equal(t, theirsID, cols[0].ID())
	})
}

// requireForbidden asserts chroma-go's error for a 403 with Chroma's
// AuthorizationError body.
func requireForbidden(t *testing.T, err error, call string) {
	t.Helper()
	require.Error(t, err, "%s must be forbidden", call)
	var chErr *chhttp.ChromaError
	require.True(t, errors.As(err, &chErr), "%s: want a *ChromaError, got %T: %v", call, err, err)
	require.Equal(t, http.StatusForbidden, chErr.ErrorCode, "%s: %v", call, err)
	require.Equal(t, "AuthorizationError", chErr.ErrorID, "%s: %v", call, err)
}
