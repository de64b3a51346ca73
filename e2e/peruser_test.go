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

// TestPerIdentityCollections: collection grants with {user} give each
// identity collections of its own without listing them (issue 23): alice
// and bob, both with {"{user}-*": admin}, create, fill and list their own
// and are refused each other's.
func TestPerIdentityCollections(t *testing.T) {
	tenant := uniqueName("peruser")
	createTenantAndDatabases(t, tenant, "prod")
	alice, bob := "alice-"+randomHex(8), "bob-"+randomHex(8)
	users := fmt.Sprintf(`users:
  - {id: alice, tokens: [%q], tenant: %q, collections: {"{user}-*": admin}}
  - {id: bob, tokens: [%q], tenant: %q, collections: {"{user}-*": admin}}
`, alice, tenant, bob, tenant)
	path := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(path, []byte(users), 0o600))
	c := newGWClient(t, startGateway(t, "chroma_auth {\n\t\ttoken_file "+path+"\n\t}"))
	colls := collPath(tenant, "prod", "", "") // …/collections
	create := func(token, name string) answer {
		return c.do(http.MethodPost, colls, token, `{"name":"`+name+`"}`)
	}
	idOf := func(a answer) string {
		var got struct{ ID string }
		require.NoError(t, json.Unmarshal(a.body, &got), "%s", a)
		return got.ID
	}
	names := func(token string) []string {
		a := c.do(http.MethodGet, colls, token, "")
		require.Equal(t, http.StatusOK, a.status, "%s", a)
		var got []struct{ Name string }
		require.NoError(t, json.Unmarshal(a.body, &got))
		var out []string
		for _, g := range got {
			out = append(out, g.Name)
		}
		sort.Strings(out)
		return out
	}

	a := create(alice, "alice-notes")
	require.Equal(t, http.StatusOK, a.status, "%s", a)
	aliceNotes := idOf(a)
	b := create(bob, "bob-notes")
	require.Equal(t, http.StatusOK, b.status, "%s", b)
	assert.Equal(t, http.StatusForbidden, create(alice, "bob-drafts").status, "alice may not create bob's")
	assert.Equal(t, http.StatusForbidden, create(bob, "shared").status, "a name outside {user}-*")

	add := `{"ids":["n1"],"embeddings":[[1,0,0]]}`
	assert.Equal(t, http.StatusCreated, c.do(http.MethodPost, collPath(tenant, "prod", aliceNotes, "/add"), alice, add).status)
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodPost, collPath(tenant, "prod", aliceNotes, "/add"), bob, add).status, "by id")
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodGet, collPath(tenant, "prod", "alice-notes", ""), bob, "").status, "by name")
	assert.Equal(t, []string{"alice-notes"}, names(alice))
	assert.Equal(t, []string{"bob-notes"}, names(bob))
	assert.Equal(t, http.StatusOK, c.do(http.MethodDelete, collPath(tenant, "prod", "alice-notes", ""), alice, "").status)
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodDelete, collPath(tenant, "prod", "bob-notes", ""), alice, "").status)
}
