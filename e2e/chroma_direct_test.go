package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// direct is the oracle of the suite: Chroma's REST API asked straight on
// its own port, past the gateway, to see what really was (not) written.
type direct struct {
	t      *testing.T
	client *http.Client
	base   string // .../tenants/default_tenant/databases/default_database
}

func chromaDirect(t *testing.T) *direct {
	return chromaDirectAt(t, "default_tenant", "default_database")
}

// chromaDirectAt is the oracle for another tenant and database.
func chromaDirectAt(t *testing.T, tenant, database string) *direct {
	return &direct{
		t:      t,
		client: plainHTTPClient(),
		base:   suite.chroma.url + "/api/v2/tenants/" + tenant + "/databases/" + database,
	}
}

// createTenantAndDatabases makes a tenant and its databases in Chroma.
func createTenantAndDatabases(t *testing.T, tenant string, databases ...string) {
	t.Helper()
	d := &direct{t: t, client: plainHTTPClient(), base: suite.chroma.url + "/api/v2"}
	require.Equal(t, http.StatusOK, d.do(http.MethodPost, "/tenants", map[string]any{"name": tenant}, nil), "create tenant %s", tenant)
	for _, db := range databases {
		require.Equal(t, http.StatusOK, d.do(http.MethodPost, "/tenants/"+tenant+"/databases", map[string]any{"name": db}, nil),
			"create database %s/%s", tenant, db)
	}
}

func (d *direct) do(method, path string, in, out any) int {
	d.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(d.t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, d.base+path, body)
	require.NoError(d.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	require.NoError(d.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(d.t, err)
	if out != nil && resp.StatusCode == http.StatusOK {
		require.NoError(d.t, json.Unmarshal(raw, out), "%s %s: %s", method, path, raw)
	}
	return resp.StatusCode
}

// collectionID returns the id of the named collection, "" if there is none.
func (d *direct) collectionID(name string) string {
	d.t.Helper()
	var c struct {
		ID string `json:"id"`
	}
	switch code := d.do(http.MethodGet, "/collections/"+url.PathEscape(name), nil, &c); code {
	case http.StatusOK:
		return c.ID
	case http.StatusNotFound:
		return ""
	default:
		d.t.Fatalf("get collection %q directly: status %d", name, code)
		return ""
	}
}

// createCollection makes a collection with the given documents and 3-d
// embeddings, as a fixture for the tests that must not change it.
func (d *direct) createCollection(name string, docs map[string][]float32) string {
	d.t.Helper()
	var c struct {
		ID string `json:"id"`
	}
	require.Equal(d.t, http.StatusOK, d.do(http.MethodPost, "/collections", map[string]any{"name": name}, &c))
	ids := make([]string, 0, len(docs))
	for id := range docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	embs := make([][]float32, len(ids))
	texts := make([]string, len(ids))
	for i, id := range ids {
		embs[i] = docs[id]
		texts[i] = "document " + id
	}
	add := map[string]any{"ids": ids, "embeddings": embs, "documents": texts}
	require.Equal(d.t, http.StatusCreated, d.do(http.MethodPost, "/collections/"+c.ID+"/add", add, nil))
	return c.ID
}

// ids lists the document ids in a collection, sorted.
func (d *direct) ids(collectionID string) []string {
	d.t.Helper()
	var got struct {
		IDs []string `json:"ids"`
	}
	code := d.do(http.MethodPost, "/collections/"+collectionID+"/get", map[string]any{"include": []string{}}, &got)
	require.Equal(d.t, http.StatusOK, code, "get documents of %s directly", collectionID)
	sort.Strings(got.IDs)
	return got.IDs
}

// deleteCollection removes a fixture; missing is fine.
func (d *direct) deleteCollection(name string) {
	d.t.Helper()
	code := d.do(http.MethodDelete, "/collections/"+url.PathEscape(name), nil, nil)
	if code != http.StatusOK && code != http.StatusNotFound {
		d.t.Errorf("delete collection %q directly: status %d", name, code)
	}
}

// uniqueName gives each test its own collection names in the shared Chroma.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%s", prefix, randomHex(4))
}
