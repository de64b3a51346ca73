package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// grantsEnv is a tenant of its own in the suite's Chroma with one database
// of fixture collections, users with collection grants (issue 13), and a
// gateway that has served nothing yet.
type grantsEnv struct {
	tenant                      string
	ids                         map[string]string // fixture name → id
	oracle                      *direct
	g                           *gateway
	c                           *gwClient
	reader, writer, admin, full credential
}

// Fixtures: the reader sees docs and pub-*, the writer writes team-* and
// reads docs, the admin administers bot-* and reads docs. Nobody but the
// full user (no collections key) sees secret.
var grantFixtures = []string{"docs", "pub-a", "pub-b", "pub-c", "secret", "team-x", "bot-a"}

func newGrantsEnv(t *testing.T, directiveExtra string) *grantsEnv {
	t.Helper()
	e := &grantsEnv{tenant: uniqueName("grants"), ids: map[string]string{}}
	createTenantAndDatabases(t, e.tenant, "prod")
	e.oracle = chromaDirectAt(t, e.tenant, "prod")
	for _, name := range grantFixtures {
		docs := map[string][]float32{"a": {1, 0, 0}, "b": {0, 1, 0}}
		e.ids[name] = e.oracle.createCollection(name, docs)
	}
	tok := func(role string) credential { return credential{kind: credBearer, token: role + "-" + randomHex(8)} }
	e.reader, e.writer, e.admin, e.full = tok("reader"), tok("writer"), tok("admin"), tok("full")
	db := []string{"prod"}
	users := writeUsers(t,
		tokenUser{id: "reader", token: e.reader.token, tenant: e.tenant, databases: db,
			collections: map[string]string{"docs": "read", "pub-*": "read"}},
		tokenUser{id: "writer", token: e.writer.token, tenant: e.tenant, databases: db,
			collections: map[string]string{"docs": "read", "team-*": "write"}},
		tokenUser{id: "admin", token: e.admin.token, tenant: e.tenant, databases: db,
			collections: map[string]string{"docs": "read", "bot-*": "admin"}},
		tokenUser{id: "full", token: e.full.token})
	e.g = startGateway(t, "chroma_auth {\n\t\ttoken_file "+users+directiveExtra+"\n\t}")
	e.c = newGWClient(t, e.g)
	return e
}

func (e *grantsEnv) path(collection, rest string) string {
	return collPath(e.tenant, "prod", collection, rest)
}

// TestCollectionGrants is issue 13 end to end with curl, chroma-go and the
// JS client against the real Chroma.
func TestCollectionGrants(t *testing.T) {
	eachChroma(t, func(t *testing.T, _ *chromaServer) { collectionGrantsSuite(t) })
}

func collectionGrantsSuite(t *testing.T) {
	e := newGrantsEnv(t, "")

	// First, while the gateway has learned nothing.
	t.Run("50 concurrent first requests by id on a cold gateway", func(t *testing.T) {
		granted := []string{"docs", "pub-a", "pub-b", "pub-c"}
		type result struct {
			name string
			a    answer
			err  error
		}
		results := make([]result, 50)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range results {
			name := granted[i%len(granted)]
			if i%10 == 9 {
				name = "secret" // hidden: refused, whatever the others do
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				a, err := e.c.try(http.MethodGet, e.path(e.ids[name], "/count"), e.reader.token, "")
				results[i] = result{name, a, err}
			}()
		}
		close(start)
		wg.Wait()
		for i, r := range results {
			require.NoError(t, r.err, "request %d", i)
			want := http.StatusOK
			if r.name == "secret" {
				want = http.StatusForbidden
			}
			assert.Equal(t, want, r.a.status, "request %d for %s: %s", i, r.name, r.a)
		}
	})

	t.Run("a read user lists exactly its collections", func(t *testing.T) { grantsListing(t, e) })
	t.Run("a read user queries but cannot add", func(t *testing.T) { grantsReader(t, e) })
	t.Run("a write user adds to team-* but cannot delete it", func(t *testing.T) { grantsWriter(t, e) })
	t.Run("an admin user creates and renames inside its glob only", func(t *testing.T) { grantsAdmin(t, e) })
	t.Run("hidden collections: 403 by id, name and CRN, exists or not", func(t *testing.T) { grantsHidden(t, e) })
}

func names(t *testing.T, body []byte) []string {
	t.Helper()
	var list []struct {
		Name string `json:"name"`
	}
	require.NoError(t, json.Unmarshal(body, &list), "%s", body)
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.Name
	}
	return out
}

func grantsListing(t *testing.T, e *grantsEnv) {
	visible := []string{"docs", "pub-a", "pub-b", "pub-c"}
	status, body := curl(t, e.g, e.reader, http.MethodGet, e.path("", ""), nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	all := names(t, body)
	assert.ElementsMatch(t, visible, all, "curl: the listing holds exactly the readable collections")

	var paged []string
	for offset := 0; offset <= len(visible)+1; offset += 2 {
		status, body := curl(t, e.g, e.reader, http.MethodGet, e.path("", fmt.Sprintf("?limit=2&offset=%d", offset)), nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		page := names(t, body)
		assert.LessOrEqual(t, len(page), 2, "offset %d", offset)
		paged = append(paged, page...)
	}
	assert.Equal(t, all, paged, "pages of 2 make up the whole listing, in order, without gaps or repeats")

	status, body = curl(t, e.g, e.reader, http.MethodGet, collPath(e.tenant, "prod", "", "")+"_count", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Equal(t, fmt.Sprint(len(visible)), strings.TrimSpace(string(body)), "collections_count counts the same set")

	// The full user still sees everything, from Chroma itself.
	status, body = curl(t, e.g, e.full, http.MethodGet, e.path("", ""), nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.ElementsMatch(t, grantFixtures, names(t, body))

	c := newGoClient(t, e.g, e.reader.goAuth(), chroma.WithDatabaseAndTenant("prod", e.tenant))
	cols, err := c.ListCollections(t.Context(), chroma.ListWithLimit(2), chroma.ListWithOffset(1))
	require.NoError(t, err)
	var goPage []string
	for _, col := range cols {
		goPage = append(goPage, col.Name())
	}
	assert.Equal(t, all[1:3], goPage, "chroma-go: limit 2, offset 1")
	n, err := c.CountCollections(t.Context())
	require.NoError(t, err)
	assert.Equal(t, len(visible), n, "chroma-go count")
}

func grantsReader(t *testing.T, e *grantsEnv) {
	c := newGoClient(t, e.g, e.reader.goAuth(), chroma.WithDatabaseAndTenant("prod", e.tenant))
	col, err := c.GetCollection(t.Context(), "docs", chroma.WithEmbeddingFunctionGet(noModelEF()))
	require.NoError(t, err)
	res, err := col.Query(t.Context(), chroma.WithQueryEmbeddings(emb(0, 1, 0)), chroma.WithNResults(1))
	require.NoError(t, err)
	assert.Equal(t, chroma.DocumentIDs{"b"}, res.GetIDGroups()[0])
	err = col.Add(t.Context(), chroma.WithIDs("go-intruder"), chroma.WithEmbeddings(emb(0, 0, 1)))
	requireForbidden(t, err, "reader Add")
	_, err = c.CreateCollection(t.Context(), "pub-new", chroma.WithEmbeddingFunctionCreate(noModelEF()))
	requireForbidden(t, err, "reader CreateCollection inside its read glob")

	var js struct {
		Page      []string `json:"page"`
		All       []string `json:"all"`
		Count     int      `json:"count"`
		ReadCount int      `json:"readCount"`
		Nearest   []string `json:"nearest"`
		Add       string   `json:"add"`
	}
	runJS(t, e.g, "js/grants.mjs", &js, e.reader, "ROLE=reader", "TENANT="+e.tenant, "DATABASE=prod",
		"READ=docs", "LIMIT=2", "OFFSET=1")
	assert.Equal(t, []string{"docs", "pub-a", "pub-b", "pub-c"}, js.All, "JS listing")
	assert.Len(t, js.Page, 2, "JS page")
	assert.Subset(t, js.All, js.Page)
	assert.Equal(t, 4, js.Count, "JS count")
	assert.Equal(t, 2, js.ReadCount)
	assert.Equal(t, []string{"b"}, js.Nearest)
	assert.Equal(t, "ChromaForbiddenError", js.Add)

	status, body := curl(t, e.g, e.reader, http.MethodPost, e.path(e.ids["docs"], "/add"),
		map[string]any{"ids": []string{"curl-intruder"}, "embeddings": [][]float32{{0, 0, 1}}})
	assert.Equal(t, http.StatusForbidden, status, "curl add: %s", body)
	assert.Equal(t, []string{"a", "b"}, e.oracle.ids(e.ids["docs"]), "nothing was added to docs")
}

func grantsWriter(t *testing.T, e *grantsEnv) {
	c := newGoClient(t, e.g, e.writer.goAuth(), chroma.WithDatabaseAndTenant("prod", e.tenant))
	col, err := c.GetCollection(t.Context(), "team-x", chroma.WithEmbeddingFunctionGet(noModelEF()))
	require.NoError(t, err)
	require.NoError(t, col.Add(t.Context(), chroma.WithIDs("go-written"), chroma.WithEmbeddings(emb(0, 0, 1))))
	require.NoError(t, col.Delete(t.Context(), chroma.WithIDsDelete("a")))
	err = c.DeleteCollection(t.Context(), "team-x")
	requireForbidden(t, err, "writer DeleteCollection")
	err = col.ModifyName(t.Context(), "team-renamed")
	requireForbidden(t, err, "writer ModifyName")
	docs, err := c.GetCollection(t.Context(), "docs", chroma.WithEmbeddingFunctionGet(noModelEF()))
	require.NoError(t, err)
	requireForbidden(t, docs.Add(t.Context(), chroma.WithIDs("go-intruder"), chroma.WithEmbeddings(emb(0, 0, 1))), "writer Add to a read collection")

	var js struct {
		Add              string `json:"add"`
		WriteCount       int    `json:"writeCount"`
		AddToRead        string `json:"addToRead"`
		DeleteCollection string `json:"deleteCollection"`
	}
	runJS(t, e.g, "js/grants.mjs", &js, e.writer, "ROLE=writer", "TENANT="+e.tenant, "DATABASE=prod",
		"READ=docs", "WRITE=team-x")
	assert.Equal(t, "ok", js.Add)
	assert.Equal(t, 3, js.WriteCount, "b, go-written, js-written")
	assert.Equal(t, "ChromaForbiddenError", js.AddToRead)
	assert.Equal(t, "ChromaForbiddenError", js.DeleteCollection)

	status, body := curl(t, e.g, e.writer, http.MethodDelete, e.path("team-x", ""), nil)
	assert.Equal(t, http.StatusForbidden, status, "curl delete collection: %s", body)
	assert.Equal(t, e.ids["team-x"], e.oracle.collectionID("team-x"), "team-x still exists under its name")
	assert.Equal(t, []string{"b", "go-written", "js-written"}, e.oracle.ids(e.ids["team-x"]))
	assert.Equal(t, []string{"a", "b"}, e.oracle.ids(e.ids["docs"]))
}

func grantsAdmin(t *testing.T, e *grantsEnv) {
	c := newGoClient(t, e.g, e.admin.goAuth(), chroma.WithDatabaseAndTenant("prod", e.tenant))
	col, err := c.CreateCollection(t.Context(), "bot-go", chroma.WithEmbeddingFunctionCreate(noModelEF()))
	require.NoError(t, err)
	require.NoError(t, col.ModifyName(t.Context(), "bot-go-renamed"))
	requireForbidden(t, col.ModifyName(t.Context(), "stolen-go"), "admin ModifyName outside its glob")
	_, err = c.CreateCollection(t.Context(), "outside-go", chroma.WithEmbeddingFunctionCreate(noModelEF()))
	requireForbidden(t, err, "admin CreateCollection outside its glob")
	requireForbidden(t, c.DeleteCollection(t.Context(), "docs"), "admin DeleteCollection of a read collection")
	assert.Equal(t, col.ID(), e.oracle.collectionID("bot-go-renamed"), "renamed inside the glob")
	require.NoError(t, c.DeleteCollection(t.Context(), "bot-go-renamed"))
	assert.Empty(t, e.oracle.collectionID("bot-go-renamed"), "deleted")

	var js struct {
		Created       string `json:"created"`
		Rename        string `json:"rename"`
		RenameOutside string `json:"renameOutside"`
		CreateOutside string `json:"createOutside"`
		Delete        string `json:"delete"`
	}
	runJS(t, e.g, "js/grants.mjs", &js, e.admin, "ROLE=admin", "TENANT="+e.tenant, "DATABASE=prod",
		"CREATE=bot-js", "RENAME=bot-js-renamed", "OUTSIDE=stolen-js")
	assert.NotEmpty(t, js.Created)
	assert.Equal(t, "ok", js.Rename)
	assert.Equal(t, "ChromaForbiddenError", js.RenameOutside)
	assert.Equal(t, "ChromaForbiddenError", js.CreateOutside)
	assert.Equal(t, "ok", js.Delete)
	for _, name := range []string{"outside-go", "stolen-go", "stolen-js", "bot-js", "bot-js-renamed"} {
		assert.Empty(t, e.oracle.collectionID(name), "%s must not exist", name)
	}

	status, body := curl(t, e.g, e.admin, http.MethodPost, e.path("", ""), map[string]any{"name": "outside-curl"})
	assert.Equal(t, http.StatusForbidden, status, "curl create outside: %s", body)
	status, body = curl(t, e.g, e.admin, http.MethodPut, e.path(e.ids["bot-a"], ""), map[string]any{"new_name": "stolen-curl"})
	assert.Equal(t, http.StatusForbidden, status, "curl rename outside: %s", body)
	assert.Equal(t, e.ids["bot-a"], e.oracle.collectionID("bot-a"))
}

// grantsHidden: a collection the caller may not see is refused the same
// way whether it exists or not, by id, by name and by CRN.
func grantsHidden(t *testing.T, e *grantsEnv) {
	missingID := newUUID()
	// The answer with the collection named in it replaced, to compare.
	same := func(body []byte, named ...string) string {
		s := string(body)
		for _, n := range named {
			s = strings.ReplaceAll(s, n, "<named>")
		}
		return s
	}
	routes := []struct{ method, rest, body string }{
		{http.MethodGet, "", ""},
		{http.MethodGet, "/count", ""},
		{http.MethodPost, "/get", `{}`},
		{http.MethodPost, "/query", `{"query_embeddings":[[1,0,0]],"n_results":1}`},
		{http.MethodPost, "/add", `{"ids":["x"],"embeddings":[[1,0,0]]}`},
		{http.MethodDelete, "", ""},
	}
	for _, rt := range routes {
		if rt.method == http.MethodGet && rt.rest == "" || rt.method == http.MethodDelete {
			// By name (GET and DELETE of a collection go by name in 1.0).
			hidden := e.c.do(rt.method, e.path("secret", rt.rest), e.reader.token, rt.body)
			missing := e.c.do(rt.method, e.path("no-such-coll", rt.rest), e.reader.token, rt.body)
			assert.Equal(t, http.StatusForbidden, hidden.status, "%s secret: %s", rt.method, hidden)
			assert.Equal(t, same(hidden.body, "secret"), same(missing.body, "no-such-coll"), "%s by name: no existence oracle", rt.method)
			continue
		}
		hidden := e.c.do(rt.method, e.path(e.ids["secret"], rt.rest), e.reader.token, rt.body)
		missing := e.c.do(rt.method, e.path(missingID, rt.rest), e.reader.token, rt.body)
		assert.Equal(t, http.StatusForbidden, hidden.status, "%s %s of secret's id: %s", rt.method, rt.rest, hidden)
		assert.Equal(t, http.StatusForbidden, missing.status, "%s %s of a missing id: %s", rt.method, rt.rest, missing)
		assert.Equal(t, same(hidden.body, e.ids["secret"]), same(missing.body, missingID),
			"%s %s by id: the same answer whether the collection exists or not", rt.method, rt.rest)
	}
	crn := func(name string) string {
		return "/api/v2/collections/" + url.PathEscape(e.tenant+":prod:"+name)
	}
	hidden, missing := e.c.do(http.MethodGet, crn("secret"), e.reader.token, ""), e.c.do(http.MethodGet, crn("no-such-coll"), e.reader.token, "")
	assert.Equal(t, http.StatusForbidden, hidden.status, "CRN: %s", hidden)
	assert.Equal(t, same(hidden.body, "secret"), same(missing.body, "no-such-coll"), "CRN: no existence oracle")

	// Chroma-go and JS get a 403 error, not the collection.
	c := newGoClient(t, e.g, e.reader.goAuth(), chroma.WithDatabaseAndTenant("prod", e.tenant))
	_, err := c.GetCollection(t.Context(), "secret", chroma.WithEmbeddingFunctionGet(noModelEF()))
	requireForbidden(t, err, "reader GetCollection secret")
	assert.Equal(t, []string{"a", "b"}, e.oracle.ids(e.ids["secret"]), "secret unchanged")
	assert.Equal(t, e.ids["secret"], e.oracle.collectionID("secret"), "secret not deleted")
}
