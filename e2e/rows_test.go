package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rowsEnv: one collection two users share (issue 23), each with rows
// owner: {user}; an admin without rows; the oracle reads Chroma directly.
type rowsEnv struct {
	tenant, coll              string
	oracle                    *direct
	c                         *gwClient
	g                         *gateway
	alice, bob, admin, mallet string
}

func newRowsEnv(t *testing.T) *rowsEnv {
	t.Helper()
	e := &rowsEnv{tenant: uniqueName("rows")}
	createTenantAndDatabases(t, e.tenant, "prod")
	e.oracle = chromaDirectAt(t, e.tenant, "prod")
	e.coll = e.oracle.createCollection("shared", map[string][]float32{"x0": {1, 0, 0}})
	e.alice, e.bob, e.admin = "alice-"+randomHex(8), "bob-"+randomHex(8), "admin-"+randomHex(8)
	users := fmt.Sprintf(`users:
  - {id: alice, tokens: [%q], tenant: %q, databases: [prod], rows: {owner: "{user}"}}
  - {id: bob, tokens: [%q], tenant: %q, databases: [prod], rows: {owner: "{user}"}}
  - {id: admin, tokens: [%q], tenant: %q, databases: [prod]}
`, e.alice, e.tenant, e.bob, e.tenant, e.admin, e.tenant)
	path := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(path, []byte(users), 0o600))
	g := startGateway(t, "chroma_auth {\n\t\ttoken_file "+path+"\n\t}")
	e.c = newGWClient(t, g)
	e.g = g
	return e
}

func (e *rowsEnv) path(rest string) string { return collPath(e.tenant, "prod", e.coll, rest) }

func (e *rowsEnv) call(token, route, body string) answer {
	method := http.MethodPost
	if route == "/count" {
		method = http.MethodGet
	}
	return e.c.do(method, e.path(route), token, body)
}

// get returns id → metadata of what token's get answers.
func (e *rowsEnv) get(t *testing.T, token, body string) map[string]map[string]any {
	t.Helper()
	a := e.call(token, "/get", body)
	require.Equal(t, http.StatusOK, a.status, "%s", a)
	var got struct {
		IDs       []string         `json:"ids"`
		Metadatas []map[string]any `json:"metadatas"`
	}
	require.NoError(t, json.Unmarshal(a.body, &got))
	out := map[string]map[string]any{}
	for i, id := range got.IDs {
		out[id] = got.Metadatas[i]
	}
	return out
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRowLevelSecurity: two users share one collection of the real Chroma
// through every read and write route; each sees and changes only its own
// records, and the admin (no rows) sees all; on Chroma 1.5.9 and 1.0.
func TestRowLevelSecurity(t *testing.T) {
	eachChroma(t, func(t *testing.T, _ *chromaServer) { rowLevelSecurity(t) })
}

func rowLevelSecurity(t *testing.T) {
	e := newRowsEnv(t)
	ok := func(a answer) { t.Helper(); require.Contains(t, []int{200, 201}, a.status, "%s", a) }
	forbidden := func(a answer) { t.Helper(); require.Equal(t, http.StatusForbidden, a.status, "%s", a) }
	all := `{"include":["metadatas"]}`

	// writes: add (stamped, with and without metadatas), upsert
	ok(e.call(e.alice, "/add", `{"ids":["a1","a2"],"embeddings":[[0.1,0.2,0.30000001192092896],[0,1,0]],"metadatas":[null,{"k":"x"}],"documents":["alpha","beta"]}`))
	ok(e.call(e.bob, "/add", `{"ids":["b1","b2"],"embeddings":[[0,0,1],[1,1,0]],"metadatas":[{"k":"x"},{"k":"y","owner":"bob"}]}`))
	ok(e.call(e.alice, "/upsert", `{"ids":["a3"],"embeddings":[[1,0,1]]}`))

	t.Run("get, peek and get by ids show only one's own records", func(t *testing.T) {
		assert.Equal(t, []string{"a1", "a2", "a3"}, keys(e.get(t, e.alice, all)))
		assert.Equal(t, []string{"b1", "b2"}, keys(e.get(t, e.bob, all)))
		for _, m := range e.get(t, e.alice, all) {
			assert.Equal(t, "alice", m["owner"])
		}
		assert.Equal(t, "x", e.get(t, e.alice, all)["a2"]["k"], "the record's own metadata kept")
		assert.Len(t, e.get(t, e.bob, `{"limit":1,"include":["metadatas"]}`), 1, "peek")
		assert.Equal(t, []string{"a1"}, keys(e.get(t, e.alice, `{"ids":["a1","b1"],"include":["metadatas"]}`)))
		assert.Equal(t, []string{"b1"}, keys(e.get(t, e.bob, `{"where":{"k":"x"},"include":["metadatas"]}`)))
		assert.Equal(t, []string{"a1", "a2", "a3", "b1", "b2", "x0"}, keys(e.get(t, e.admin, all)), "no rows: every record")
	})
	t.Run("count is the identity's", func(t *testing.T) {
		assert.Equal(t, "3", string(e.call(e.alice, "/count", "").body))
		assert.Equal(t, "2", string(e.call(e.bob, "/count", "").body))
		assert.Equal(t, "6", string(e.call(e.admin, "/count", "").body))
	})
	t.Run("query returns only one's own records", func(t *testing.T) {
		a := e.call(e.bob, "/query", `{"query_embeddings":[[0.1,0.2,0.3]],"n_results":10,"include":["metadatas"]}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a)
		var got struct {
			IDs [][]string `json:"ids"`
		}
		require.NoError(t, json.Unmarshal(a.body, &got))
		sort.Strings(got.IDs[0])
		assert.Equal(t, []string{"b1", "b2"}, got.IDs[0])
	})
	t.Run("embeddings keep their precision", func(t *testing.T) {
		a := e.call(e.admin, "/get", `{"ids":["a1"],"include":["embeddings"]}`)
		var got struct {
			Embeddings [][]float32 `json:"embeddings"`
		}
		require.NoError(t, json.Unmarshal(a.body, &got), "%s", a)
		assert.Equal(t, []float32{0.1, 0.2, 0.30000001192092896}, got.Embeddings[0])
	})
	t.Run("a write that would touch another's record is refused whole", func(t *testing.T) {
		forbidden(e.call(e.alice, "/add", `{"ids":["a9","a10"],"embeddings":[[0,0,0],[0,0,0]],"metadatas":[{},{"owner":"bob"}]}`))
		forbidden(e.call(e.alice, "/update", `{"ids":["b1"],"documents":["mine now"]}`))
		forbidden(e.call(e.alice, "/upsert", `{"ids":["a9","b1"],"embeddings":[[0,0,0],[0,0,0]]}`))
		forbidden(e.call(e.alice, "/update", `{"ids":["a1"],"metadatas":[{"owner":"bob"}]}`))
		all := e.get(t, e.admin, all)
		assert.NotContains(t, all, "a9", "nothing of a refused write is written")
		assert.NotContains(t, all, "a10")
		assert.Equal(t, "bob", all["b1"]["owner"])
		assert.Equal(t, "alice", all["a1"]["owner"])
		// an add of an id another holds does not take it over
		e.call(e.bob, "/add", `{"ids":["a2"],"embeddings":[[0,0,0]]}`)
		assert.Equal(t, "alice", e.get(t, e.admin, `{"ids":["a2"],"include":["metadatas"]}`)["a2"]["owner"])
	})
	t.Run("one's own update and upsert pass", func(t *testing.T) {
		ok(e.call(e.alice, "/update", `{"ids":["a1"],"metadatas":[{"k":"z"}]}`))
		ok(e.call(e.alice, "/upsert", `{"ids":["a1"],"embeddings":[[0,0,0]],"metadatas":[{"k":"w"}]}`))
		assert.Equal(t, "w", e.get(t, e.admin, `{"ids":["a1"],"include":["metadatas"]}`)["a1"]["k"])
	})
	t.Run("delete by id and by where takes only one's own", func(t *testing.T) {
		ok(e.call(e.alice, "/delete", `{"ids":["a3","b2"]}`))
		ok(e.call(e.alice, "/delete", `{"where":{"k":"x"}}`))
		assert.Equal(t, []string{"a1", "b1", "b2", "x0"}, keys(e.get(t, e.admin, all)))
	})
	t.Run("collection-wide operations are refused to an identity with rows", func(t *testing.T) {
		forbidden(e.c.do(http.MethodDelete, collPath(e.tenant, "prod", "shared", ""), e.alice, ""))
		forbidden(e.c.do(http.MethodPut, e.path(""), e.alice, `{"new_name":"mine"}`))
		forbidden(e.c.do(http.MethodPost, e.path("/fork"), e.alice, `{"new_name":"mine"}`))
		assert.Equal(t, e.coll, e.oracle.collectionID("shared"))
	})
}
