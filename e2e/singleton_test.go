package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// singletonUsers: one user of one tenant and one database, one user of one
// tenant and every database.
const singletonUsers = `users:
  - id: admin@acme
    role: admin
    tenant: %[1]s
    databases: [prod]
    tokens: [%[3]s]
  - id: team@beta
    role: admin
    tenant: %[2]s
    tokens: [%[4]s]
`

// singletonOut is what js/singleton.mjs prints.
type singletonOut struct {
	Tenant   string   `json:"tenant"`
	Database string   `json:"database"`
	Created  string   `json:"created"`
	Count    int      `json:"count"`
	Nearest  []string `json:"nearest"`
	GotID    string   `json:"gotId"`
	Listed   []string `json:"listed"`
	Error    string   `json:"error"`
}

// TestSingletonOverwrite shows Chroma 0.5's overwrite_singleton behaviour
// with the real clients: the JS ChromaClient and chroma-go, given only a
// token, address default_tenant/default_database; the gateway sends a user
// of one tenant and one database to its own, where Chroma (asked directly)
// has the collection. With no_singleton_overwrite the same calls are
// forbidden and nothing is written.
func TestSingletonOverwrite(t *testing.T) {
	acme, beta := uniqueName("stacme"), uniqueName("stbeta")
	// Chroma needs the tenants and databases to exist.
	createTenantAndDatabases(t, acme, "prod")
	createTenantAndDatabases(t, beta, "default_database")
	acmeTok, betaTok := "st-acme-"+randomHex(8), "st-beta-"+randomHex(8)
	users := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(users, fmt.Appendf(nil, singletonUsers, acme, beta, acmeTok, betaTok), 0o600))

	deflt := chromaDirect(t)
	prod := chromaDirectAt(t, acme, "prod")
	betaDefault := chromaDirectAt(t, beta, "default_database")
	acmeCred := credential{kind: credBearer, token: acmeTok}

	g := startGateway(t, "chroma_auth {\n\t\ttoken_file "+users+"\n\t}")
	gNo := startGateway(t, "chroma_auth {\n\t\ttoken_file "+users+"\n\t\tno_singleton_overwrite\n\t}")

	t.Run("JS ChromaClient lands in the user's tenant and database", func(t *testing.T) {
		name := uniqueName("st-js")
		t.Cleanup(func() { prod.deleteCollection(name); deflt.deleteCollection(name) })
		var out singletonOut
		runJS(t, g, "js/singleton.mjs", &out, acmeCred, "CREATE="+name)
		require.Empty(t, out.Error)
		assert.Equal(t, "default_tenant", out.Tenant, "the client addresses Chroma's defaults")
		assert.Equal(t, "default_database", out.Database)
		assert.Equal(t, 2, out.Count)
		assert.Equal(t, []string{"two"}, out.Nearest)
		assert.Equal(t, out.Created, out.GotID)
		assert.Equal(t, []string{name}, out.Listed, "the list is the user's database's")

		require.NotEmpty(t, out.Created)
		assert.Equal(t, out.Created, prod.collectionID(name), "Chroma has it in %s/prod", acme)
		assert.Equal(t, []string{"one", "two"}, prod.ids(out.Created))
		assert.Empty(t, deflt.collectionID(name), "and not in default_tenant/default_database")
	})

	t.Run("JS ChromaClient, user of every database: the tenant only is rewritten", func(t *testing.T) {
		name := uniqueName("st-js-beta")
		t.Cleanup(func() { betaDefault.deleteCollection(name); deflt.deleteCollection(name) })
		var out singletonOut
		runJS(t, g, "js/singleton.mjs", &out, credential{kind: credBearer, token: betaTok}, "CREATE="+name)
		require.Empty(t, out.Error)
		assert.Equal(t, 2, out.Count)
		require.NotEmpty(t, out.Created)
		assert.Equal(t, out.Created, betaDefault.collectionID(name), "Chroma has it in %s/default_database", beta)
		assert.Empty(t, deflt.collectionID(name), "and not in default_tenant")
	})

	t.Run("JS ChromaClient with no_singleton_overwrite: ChromaForbiddenError", func(t *testing.T) {
		name := uniqueName("st-js-no")
		t.Cleanup(func() { prod.deleteCollection(name); deflt.deleteCollection(name) })
		var out singletonOut
		runJS(t, gNo, "js/singleton.mjs", &out, acmeCred, "CREATE="+name)
		assert.Equal(t, "ChromaForbiddenError", out.Error)
		assert.Empty(t, out.Created)
		assert.Empty(t, prod.collectionID(name), "nothing in %s/prod", acme)
		assert.Empty(t, deflt.collectionID(name), "nothing in the default database")
	})

	t.Run("chroma-go lands in the user's tenant and database", func(t *testing.T) {
		name := uniqueName("st-go")
		t.Cleanup(func() { prod.deleteCollection(name); deflt.deleteCollection(name) })
		t.Setenv("CHROMA_TENANT", "") // chroma-go reads these; only a token is given
		t.Setenv("CHROMA_DATABASE", "")
		c := newGoClient(t, g, acmeCred.goAuth())
		col, err := c.CreateCollection(t.Context(), name, chroma.WithEmbeddingFunctionCreate(noModelEF()))
		require.NoError(t, err)
		require.NoError(t, col.Add(t.Context(), chroma.WithIDs("a", "b"), chroma.WithTexts("a", "b"),
			chroma.WithEmbeddings(emb(1, 0, 0), emb(0, 1, 0))))
		n, err := col.Count(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Equal(t, col.ID(), prod.collectionID(name), "Chroma has it in %s/prod", acme)
		assert.Equal(t, []string{"a", "b"}, prod.ids(col.ID()))
		assert.Empty(t, deflt.collectionID(name), "and not in the default database")
	})

	t.Run("chroma-go with no_singleton_overwrite: 403 AuthorizationError", func(t *testing.T) {
		name := uniqueName("st-go-no")
		t.Cleanup(func() { prod.deleteCollection(name); deflt.deleteCollection(name) })
		t.Setenv("CHROMA_TENANT", "")
		t.Setenv("CHROMA_DATABASE", "")
		c := newGoClient(t, gNo, acmeCred.goAuth())
		_, err := c.CreateCollection(t.Context(), name, chroma.WithEmbeddingFunctionCreate(noModelEF()))
		requireForbidden(t, err, "CreateCollection in the defaults")
		_, err = c.ListCollections(t.Context())
		requireForbidden(t, err, "ListCollections in the defaults")
		assert.Empty(t, prod.collectionID(name))
		assert.Empty(t, deflt.collectionID(name))
	})
}
