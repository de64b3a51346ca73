package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromaUnauthorized is the body Chroma's clients turn into their own
// unauthorized error.
const chromaUnauthorized = `{"error":"AuthorizationError","message":"Unauthorized"}`

// TestCurl speaks Chroma's REST API through the gateway with curl, trusting
// Caddy's CA by --cacert, in each auth set-up.
func TestCurl(t *testing.T) {
	for _, mode := range suite.creds.modes() {
		t.Run(mode.name, func(t *testing.T) {
			g := startGateway(t, mode.directive)
			t.Run("public routes without credentials", func(t *testing.T) {
				curlPublicRoutes(t, g)
			})
			t.Run("collection life with good credentials", func(t *testing.T) {
				curlCollectionLife(t, g, mode.good)
			})
			t.Run("wrong credentials refused", func(t *testing.T) {
				curlRefused(t, g, mode.wrong)
			})
			t.Run("no credentials refused", func(t *testing.T) {
				curlRefused(t, g, credential{kind: credNone})
			})
		})
	}
}

func curlPublicRoutes(t *testing.T, g *gateway) {
	status, body := curl(t, g, credential{}, http.MethodGet, "/api/v2/heartbeat", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var hb map[string]int64
	require.NoError(t, json.Unmarshal(body, &hb))
	assert.Positive(t, hb["nanosecond heartbeat"])

	status, body = curl(t, g, credential{}, http.MethodGet, "/api/v2/version", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.JSONEq(t, strconv.Quote(suite.chroma.version), string(body))
}

const dbPath = "/api/v2/tenants/default_tenant/databases/default_database"

func curlCollectionLife(t *testing.T, g *gateway, good credential) {
	oracle := chromaDirect(t)
	name := uniqueName("curl-life")
	t.Cleanup(func() { oracle.deleteCollection(name) })

	status, body := curl(t, g, good, http.MethodPost, dbPath+"/collections", map[string]any{"name": name})
	require.Equal(t, http.StatusOK, status, "%s", body)
	var col struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(body, &col))
	require.Equal(t, oracle.collectionID(name), col.ID, "Chroma has the collection")
	colPath := dbPath + "/collections/" + col.ID

	status, body = curl(t, g, good, http.MethodPost, colPath+"/add", map[string]any{
		"ids":        []string{"north", "east", "up"},
		"embeddings": [][]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
		"documents":  []string{"points north", "points east", "points up"},
	})
	require.Equal(t, http.StatusCreated, status, "%s", body)
	assert.Equal(t, []string{"east", "north", "up"}, oracle.ids(col.ID))

	status, body = curl(t, g, good, http.MethodPost, colPath+"/query", map[string]any{
		"query_embeddings": [][]float32{{0.1, 0.9, 0}}, "n_results": 1,
	})
	require.Equal(t, http.StatusOK, status, "%s", body)
	var res struct {
		IDs [][]string `json:"ids"`
	}
	require.NoError(t, json.Unmarshal(body, &res))
	assert.Equal(t, [][]string{{"east"}}, res.IDs, "nearest to (0.1, 0.9, 0)")

	status, body = curl(t, g, good, http.MethodGet, colPath+"/count", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Equal(t, "3", string(bytes.TrimSpace(body)))

	status, body = curl(t, g, good, http.MethodPost, colPath+"/delete", map[string]any{"ids": []string{"north"}})
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Equal(t, []string{"east", "up"}, oracle.ids(col.ID))

	status, body = curl(t, g, good, http.MethodDelete, dbPath+"/collections/"+name, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Empty(t, oracle.collectionID(name), "Chroma no longer has the collection")
}

func curlRefused(t *testing.T, g *gateway, bad credential) {
	oracle := chromaDirect(t)
	fixture := uniqueName("curl-fixture")
	fixtureID := oracle.createCollection(fixture, map[string][]float32{"a": {1, 0, 0}, "b": {0, 1, 0}})
	t.Cleanup(func() { oracle.deleteCollection(fixture) })
	newName := uniqueName("curl-refused")
	t.Cleanup(func() { oracle.deleteCollection(newName) })
	colPath := dbPath + "/collections/" + fixtureID

	calls := []struct {
		name, method, path string
		body               any
	}{
		{"create collection", http.MethodPost, dbPath + "/collections", map[string]any{"name": newName}},
		{"get collection", http.MethodGet, dbPath + "/collections/" + fixture, nil},
		{"list collections", http.MethodGet, dbPath + "/collections", nil},
		{"add", http.MethodPost, colPath + "/add", map[string]any{
			"ids": []string{"intruder"}, "embeddings": [][]float32{{0, 0, 1}}}},
		{"query", http.MethodPost, colPath + "/query", map[string]any{
			"query_embeddings": [][]float32{{1, 0, 0}}, "n_results": 1}},
		{"count", http.MethodGet, colPath + "/count", nil},
		{"delete", http.MethodPost, colPath + "/delete", map[string]any{"ids": []string{"a"}}},
		{"delete collection", http.MethodDelete, dbPath + "/collections/" + fixture, nil},
		{"identity", http.MethodGet, "/api/v2/auth/identity", nil},
		{"openapi", http.MethodGet, "/openapi.json", nil},
	}
	for _, c := range calls {
		status, body := curl(t, g, bad, c.method, c.path, c.body)
		if assert.Equal(t, http.StatusUnauthorized, status, "%s: %s", c.name, short(body)) {
			assert.JSONEq(t, chromaUnauthorized, string(body), c.name)
		}
	}

	assert.Empty(t, oracle.collectionID(newName), "no collection was created")
	assert.Equal(t, fixtureID, oracle.collectionID(fixture), "the fixture still exists")
	assert.Equal(t, []string{"a", "b"}, oracle.ids(fixtureID), "no document was added or deleted")
}

// short keeps failure messages readable when a body is large (openapi.json).
func short(b []byte) string {
	const max = 300
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// curl makes one request with the curl binary, trusting only the gateway's
// CA root, and returns the status and body.
func curl(t *testing.T, g *gateway, cred credential, method, path string, body any, extra ...string) (int, []byte) {
	t.Helper()
	args := []string{"--silent", "--show-error", "--cacert", g.caRoot, "--request", method,
		"--write-out", "\n%{http_code}"}
	args = append(args, extra...)
	args = append(args, cred.curlArgs()...)
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		args = append(args, "--header", "Content-Type: application/json", "--data-binary", string(b))
	}
	args = append(args, g.url+path)
	out, err := runCurl(t, args...)
	require.NoError(t, err, "curl %s %s: %s", method, path, stderrOf(err))
	i := bytes.LastIndexByte(out, '\n')
	require.GreaterOrEqual(t, i, 0, "curl printed: %q", out)
	status, err := strconv.Atoi(string(out[i+1:]))
	require.NoError(t, err, "curl printed: %q", out)
	return status, out[:i]
}

// runCurl runs curl; curl must be installed (Debian: apt-get install curl).
func runCurl(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	_, err := exec.LookPath("curl")
	require.NoError(t, err, "the end-to-end tests need curl on PATH")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "curl", args...).Output()
}
