package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"os"
	"path/filepath"
)

// notIn159 are the routes of authz/table.go that Chroma 1.5.9 does not
// serve (its OpenAPI document lists them not, and it answers them 404):
// each is kept for the releases that had it. Any other difference between
// the table and 1.5.9 fails TestRouteTableMatchesChroma159.
var notIn159 = map[string]string{
	// Served by 1.5.9 but left out of its OpenAPI document (it answers
	// 200 when asked directly, below).
	"GET /api/v2": "the v2 root, served but not documented",
	// Chroma 1.3–1.5.x before 1.5.9: conditional reads and commits.
	"POST /api/v2/tenants/{}/databases/{}/collections/{}/conditional/get":    "conditional get, not in 1.5.9",
	"POST /api/v2/tenants/{}/databases/{}/collections/{}/conditional/commit": "conditional commit, not in 1.5.9",
	// Attached functions: an input added to one (1.4–1.5.x).
	"POST /api/v2/tenants/{}/databases/{}/collections/{}/attached_functions/{}/add_input": "add_input, not in 1.5.9",
	// Chroma 1.3 detached an attached function by id at the database level.
	"POST /api/v2/tenants/{}/databases/{}/attached_functions/{}/detach": "database-level detach (1.3), not in 1.5.9",
}

var openAPIParam = regexp.MustCompile(`\{[^}/]+\}`)

// TestRouteTableMatchesChroma159 walks every v2 route of authz/table.go and
// every route Chroma 1.5.9 serves (its /openapi.json, asked directly, not
// through the gateway): the two sets are equal but for notIn159, whose
// entries 1.5.9 indeed answers 404 (or 200, for the undocumented root).
func TestRouteTableMatchesChroma159(t *testing.T) {
	c := suite.chromaPyPI
	body, err := get(t.Context(), plainHTTPClient(), c.url+"/openapi.json")
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	served := map[string]bool{}
	for path, methods := range doc.Paths {
		if !strings.HasPrefix(path, "/api/v2") {
			continue
		}
		for m := range methods {
			served[strings.ToUpper(m)+" "+openAPIParam.ReplaceAllString(path, "{}")] = true
		}
	}
	require.Greater(t, len(served), 25, "1.5.9's OpenAPI document lists its routes")

	table := tableV2Routes(t)
	require.Greater(t, len(table), 25)
	var missingFromTable, notServed []string
	for r := range served {
		if !table[r] {
			missingFromTable = append(missingFromTable, r)
		}
	}
	for r := range table {
		if !served[r] {
			if _, ok := notIn159[r]; !ok {
				notServed = append(notServed, r)
			}
		}
	}
	sort.Strings(missingFromTable)
	sort.Strings(notServed)
	assert.Empty(t, missingFromTable, "routes Chroma 1.5.9 serves that authz/table.go lacks")
	assert.Empty(t, notServed, "routes of authz/table.go 1.5.9 does not serve, not listed in notIn159")

	// Each allow-listed route is in the table and really not served
	// (except the root, which is served).
	client := plainHTTPClient()
	for r, why := range notIn159 {
		assert.True(t, table[r], "%s (%s) is no longer in the table: drop it from notIn159", r, why)
		assert.False(t, served[r], "%s is in 1.5.9's OpenAPI document now: drop it from notIn159", r)
		method, path, _ := strings.Cut(r, " ")
		req, err := http.NewRequestWithContext(t.Context(), method, c.url+strings.ReplaceAll(path, "{}", "x"), strings.NewReader("{}"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		want := http.StatusNotFound
		if path == "/api/v2" {
			want = http.StatusOK
		}
		assert.Equal(t, want, resp.StatusCode, "%s on 1.5.9", r)
	}
}

var (
	tableRoute  = regexp.MustCompile(`(?s)route\((coll)?\+?"?([^",]*)"?,\s*(?:map\[string\]handler\{(.*?)\}\),|(public|identity|get|post|postb)\()`)
	tableMethod = regexp.MustCompile(`http\.Method(\w+)`)
	tableColl   = regexp.MustCompile(`const coll = "([^"]+)"`)
)

// tableV2Routes reads ../authz/table.go (this module does not import the
// plugin's) and returns its v2 routes as "METHOD /api/v2/…/{}/…".
func tableV2Routes(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(suite.repoRoot, "authz", "table.go"))
	require.NoError(t, err)
	text := string(src)
	m := tableColl.FindStringSubmatch(text)
	require.NotNil(t, m, "the coll constant of table.go")
	coll := m[1]
	start := strings.Index(text, "var v2Table = []pattern{")
	require.GreaterOrEqual(t, start, 0)
	end := strings.Index(text[start:], "\n}\n")
	require.Positive(t, end)
	block := text[start : start+end]
	out := map[string]bool{}
	for _, r := range tableRoute.FindAllStringSubmatch(block, -1) {
		path := r[2]
		if r[1] != "" {
			path = coll + path
		}
		path = openAPIParam.ReplaceAllString(path, "{}")
		switch r[4] {
		case "public", "identity", "get":
			out["GET "+path] = true
		case "post", "postb":
			out["POST "+path] = true
		default:
			ms := tableMethod.FindAllStringSubmatch(r[3], -1)
			require.NotEmpty(t, ms, "methods of %s", path)
			for _, mm := range ms {
				out[strings.ToUpper(mm[1])+" "+path] = true
			}
		}
	}
	return out
}
