package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSClient drives the real chromadb JS client (node, js/*.mjs) through
// the gateway in each auth set-up, trusting Caddy's CA by
// NODE_EXTRA_CA_CERTS, with credentials in `headers`.
func TestJSClient(t *testing.T) {
	for _, mode := range suite.creds.modes() {
		t.Run(mode.name, func(t *testing.T) {
			g := startGateway(t, mode.directive)
			t.Run("collection life with good credentials", func(t *testing.T) {
				jsCollectionLife(t, g, mode.good)
			})
			t.Run("wrong credentials refused", func(t *testing.T) {
				jsRefused(t, g, mode.wrong)
			})
			t.Run("no credentials refused", func(t *testing.T) {
				jsRefused(t, g, credential{kind: credNone})
			})
		})
	}
}

func jsCollectionLife(t *testing.T, g *gateway, good credential) {
	oracle := chromaDirect(t)
	name := uniqueName("js-life")
	t.Cleanup(func() { oracle.deleteCollection(name) })

	var out struct {
		Heartbeat        float64  `json:"heartbeat"`
		Version          string   `json:"version"`
		ID               string   `json:"id"`
		CountAfterAdd    int      `json:"countAfterAdd"`
		Nearest          []string `json:"nearest"`
		CountAfterDelete int      `json:"countAfterDelete"`
		NamesBeforeDrop  []string `json:"namesBeforeDrop"`
		NamesAfterDrop   []string `json:"namesAfterDrop"`
	}
	runJS(t, g, "js/life.mjs", &out, good, "COLLECTION="+name)

	assert.Positive(t, out.Heartbeat)
	assert.Equal(t, suite.chroma.version, out.Version)
	assert.NotEmpty(t, out.ID)
	assert.Equal(t, 3, out.CountAfterAdd)
	assert.Equal(t, []string{"east"}, out.Nearest, "nearest to (0.1, 0.9, 0)")
	assert.Equal(t, 2, out.CountAfterDelete)
	assert.Equal(t, []string{name}, out.NamesBeforeDrop)
	assert.Empty(t, out.NamesAfterDrop)
	assert.Empty(t, oracle.collectionID(name), "Chroma no longer has the collection")
}

func jsRefused(t *testing.T, g *gateway, bad credential) {
	oracle := chromaDirect(t)
	fixture := uniqueName("js-fixture")
	fixtureID := oracle.createCollection(fixture, map[string][]float32{"a": {1, 0, 0}, "b": {0, 1, 0}})
	t.Cleanup(func() { oracle.deleteCollection(fixture) })
	newName := uniqueName("js-refused")
	t.Cleanup(func() { oracle.deleteCollection(newName) })

	var out struct {
		Public struct {
			Heartbeat string `json:"heartbeat"`
			Version   string `json:"version"`
		} `json:"public"`
		Refused map[string]string `json:"refused"`
	}
	runJS(t, g, "js/refused.mjs", &out, bad,
		"FIXTURE_NAME="+fixture, "FIXTURE_ID="+fixtureID, "NEW_COLLECTION="+newName)

	assert.Equal(t, "number", out.Public.Heartbeat, "heartbeat is public")
	assert.Equal(t, suite.chroma.version, out.Public.Version, "version is public")
	calls := []string{"createCollection", "getCollection", "listCollections", "countCollections",
		"add", "query", "count", "delete", "deleteCollection", "identity"}
	require.Len(t, out.Refused, len(calls))
	for _, call := range calls {
		assert.Equal(t, "ChromaUnauthorizedError", out.Refused[call], call)
	}

	assert.Empty(t, oracle.collectionID(newName), "no collection was created")
	assert.Equal(t, fixtureID, oracle.collectionID(fixture), "the fixture still exists")
	assert.Equal(t, []string{"a", "b"}, oracle.ids(fixtureID), "no document was added or deleted")
}

// runJS runs a script with node against g, trusting g's CA, and decodes
// the JSON object it prints.
func runJS(t *testing.T, g *gateway, script string, out any, cred credential, env ...string) {
	t.Helper()
	headers, err := json.Marshal(cred.jsHeaders())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := nodeCommand(ctx, script, append(env,
		"NODE_EXTRA_CA_CERTS="+g.caRoot,
		"GATEWAY_PORT="+strconv.Itoa(g.port),
		"CHROMA_HEADERS="+string(headers))...)
	stdout, err := cmd.Output()
	require.NoError(t, err, "node %s: %s", script, stderrOf(err))
	require.NoError(t, json.Unmarshal(stdout, out), "node %s printed: %s", script, stdout)
}
