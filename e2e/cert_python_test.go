package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pyMTLS is what e2e/python/mtls_client.py prints for one case.
type pyMTLS struct {
	Identity string   `json:"identity"`
	Count    int      `json:"count"`
	Query    []string `json:"query"`
	Hidden   *pyError `json:"hidden"`
	Error    *pyError `json:"error"`
}

// pyCase is one run of the client: a name and the certificate it presents.
type pyCase struct {
	Name string `json:"name"`
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// runPythonMTLS runs e2e/python/mtls_client.py once (one interpreter and
// chromadb import for every case) with the chromadb 1.5.9 venv against g.
func runPythonMTLS(t *testing.T, g *gateway, cases []pyCase, env ...string) map[string]pyMTLS {
	t.Helper()
	casesJSON, err := json.Marshal(cases)
	require.NoError(t, err)
	var r struct {
		Chromadb string            `json:"chromadb"`
		Cases    map[string]pyMTLS `json:"cases"`
	}
	runPyScript(t, 2*time.Minute, g, "mtls_client.py", &r, append([]string{"CASES=" + string(casesJSON)}, env...)...)
	assert.Equal(t, "1.5.9", r.Chromadb)
	require.Len(t, r.Cases, len(cases), "%v", r.Cases)
	return r.Cases
}

// TestClientCertificatePython: the Python client presents a client
// certificate through the SSLContext it hands httpx (the README's recipe),
// is the user whose certs: match, and its grants hold; another CA's, an
// expired and an unclaimed certificate, and none, get nothing.
func TestClientCertificatePython(t *testing.T) {
	p := newCertPKI(t)
	tenant := uniqueName("mtls-py")
	createTenantAndDatabases(t, tenant, "prod")
	oracle := chromaDirectAt(t, tenant, "prod")
	docsID := oracle.createCollection("docs", map[string][]float32{"a": {1, 0, 0}})
	oracle.createCollection("secret", map[string][]float32{"s": {0, 0, 1}})
	g := startCertGateway(t, p, "verify_if_given", p.usersYAML(tenant, "tok-"+randomHex(12), ""),
		certChromaAuth("\t\tclient_cert\n\t\tfailures_per_minute off\n"), leafFiles{})
	env := []string{"TENANT=" + tenant, "DATABASE=prod", "COLLECTION=docs", "HIDDEN=secret"}
	refused := map[string]leafFiles{"another-ca": p.foreign, "expired": p.expired, "unclaimed": p.nobody, "none": {}}
	cases := []pyCase{{Name: "indexer", Cert: p.indexer.crt, Key: p.indexer.key}}
	for name, f := range refused {
		cases = append(cases, pyCase{Name: name, Cert: f.crt, Key: f.key})
	}
	got := runPythonMTLS(t, g.gateway, cases, env...)

	r := got["indexer"]
	require.Nil(t, r.Error, "the indexer's certificate")
	assert.Equal(t, "indexer", r.Identity)
	assert.Equal(t, 2, r.Count)
	assert.Equal(t, []string{"py-indexer"}, r.Query)
	require.NotNil(t, r.Hidden, "a collection outside the grants")
	assert.Equal(t, "AuthorizationError", r.Hidden.Type, r.Hidden.Message)
	for name := range refused {
		r := got[name]
		require.NotNil(t, r.Error, "%s: the client must fail", name)
		assert.Empty(t, r.Identity, name)
		t.Logf("%s: %s: %s", name, r.Error.Type, r.Error.Message)
	}
	// What the README says each raises.
	assert.Equal(t, "AuthorizationError", got["unclaimed"].Error.Type)
	assert.Equal(t, "AuthorizationError", got["none"].Error.Type)
	assert.Equal(t, "ValueError", got["another-ca"].Error.Type)
	assert.Contains(t, got["another-ca"].Error.Message, "alert unknown ca")
	assert.Equal(t, "ValueError", got["expired"].Error.Type)
	assert.Contains(t, got["expired"].Error.Message, "alert certificate expired")
	assert.ElementsMatch(t, []string{"a", "py-indexer"}, oracle.ids(docsID), "only the indexer's add reached Chroma")
}
