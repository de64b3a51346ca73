package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pyMTLS is what e2e/python/mtls_client.py prints.
type pyMTLS struct {
	Chromadb string   `json:"chromadb"`
	Identity string   `json:"identity"`
	Count    int      `json:"count"`
	Query    []string `json:"query"`
	Hidden   *pyError `json:"hidden"`
	Error    *pyError `json:"error"`
}

// runPythonMTLS runs e2e/python/mtls_client.py with the chromadb 1.5.9
// venv's interpreter against g, presenting the client certificate f.
func runPythonMTLS(t *testing.T, g *gateway, f leafFiles, env ...string) pyMTLS {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(suite.e2eDir, ".venv-1.5", "bin", "python"), filepath.Join("python", "mtls_client.py"))
	cmd.Dir = suite.e2eDir
	cmd.Env = append(os.Environ(), "CHROMA_HOST=localhost", "CHROMA_PORT="+strconv.Itoa(g.port), "CHROMA_CA="+g.caRoot,
		"CERT="+f.crt, "KEY="+f.key, "ANONYMIZED_TELEMETRY=False", "HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.Output()
	require.NoError(t, err, "mtls_client.py: %s\n%s", out, stderrOf(err))
	var r pyMTLS
	require.NoError(t, json.Unmarshal(out, &r), "%s", out)
	assert.Equal(t, "1.5.9", r.Chromadb)
	return r
}

// TestClientCertificatePython: the Python client presents a client
// certificate through the SSLContext it hands httpx (the README's recipe),
// is the user whose certs: match, and its grants hold; another CA's, an
// expired and an unclaimed certificate get nothing.
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

	r := runPythonMTLS(t, g.gateway, p.indexer, env...)
	require.Nil(t, r.Error, "the indexer's certificate")
	assert.Equal(t, "indexer", r.Identity)
	assert.Equal(t, 2, r.Count)
	assert.Equal(t, []string{"py"}, r.Query)
	require.NotNil(t, r.Hidden, "a collection outside the grants")
	assert.Equal(t, "AuthorizationError", r.Hidden.Type, r.Hidden.Message)

	for name, f := range map[string]leafFiles{"another CA": p.foreign, "expired": p.expired, "unclaimed": p.nobody, "none": {}} {
		r := runPythonMTLS(t, g.gateway, f, env...)
		require.NotNil(t, r.Error, "%s: the client must fail", name)
		assert.Empty(t, r.Identity, name)
		t.Logf("%s: %s: %s", name, r.Error.Type, r.Error.Message)
	}
	assert.ElementsMatch(t, []string{"a", "py"}, oracle.ids(docsID), "only the indexer's add reached Chroma")
}
