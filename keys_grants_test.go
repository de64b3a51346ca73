package chromaauth

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
)

// An API key's scope goes through the same policy as a users-file entry:
// its collection grants hold, by name, by id and in listings.
func TestAPIKeyCollectionGrants(t *testing.T) {
	up := newUpstream(t)
	docs, billing := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77", "9d1e4c1a-1111-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {docs, billing}}
	up.names = map[string]string{docs: "docs", billing: "billing"}
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	var out, errOut bytes.Buffer
	_, err := cli.RunKey(cli.IO{Stdout: &out, Stderr: &errOut}, cli.KeyArgs{Op: "create", File: keys, User: "bot", Tenant: "acme", Databases: "prod", Collections: "docs=read"})
	require.NoError(t, err, errOut.String())
	key := strings.TrimSpace(out.String())
	g := startGateway(t, fmt.Sprintf("\tchroma_auth keys_file %s\n%s", keys, proxyTo(up)))
	base := "/api/v2/tenants/acme/databases/prod/collections"

	resp, body := g.do(t, "GET", base+"/docs", bearer(key))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, _ = g.do(t, "GET", base+"/billing", bearer(key))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = g.doBody(t, "POST", base+"/"+billing+"/query", `{}`, bearer(key))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = g.doBody(t, "POST", base+"/"+docs+"/add", `{}`, bearer(key))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "read is not write")
	resp, body = g.do(t, "GET", base, bearer(key))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, []string{"docs"}, names(t, body))
}

// A JWT's collections claim goes through the same policy.
func TestJWTCollectionGrants(t *testing.T) {
	up := newUpstream(t)
	docs, billing := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77", "9d1e4c1a-1111-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {docs, billing}}
	up.names = map[string]string{docs: "docs", billing: "billing"}
	secret := writeTestFile(t, t.TempDir(), "secret", strings.Repeat("s", 40))
	tok, err := cli.MintJWT(cli.JWTArgs{SecretFile: secret, Subject: "bot", Tenant: "acme", Databases: []string{"prod"}, Collections: []string{"docs=read"}, Lifetime: time.Hour}, time.Now())
	require.NoError(t, err)
	g := startGateway(t, fmt.Sprintf(`	chroma_auth {
		jwt {
			secret_file %s
			user_claim sub
			tenant_claim chroma.tenant
			databases_claim chroma.databases
			collections_claim chroma.collections
		}
	}
%s`, secret, proxyTo(up)))
	base := "/api/v2/tenants/acme/databases/prod/collections"
	resp, body := g.do(t, "GET", base+"/docs", bearer(tok))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, _ = g.doBody(t, "POST", base+"/"+billing+"/get", `{}`, bearer(tok))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, body = g.do(t, "GET", base, bearer(tok))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, []string{"docs"}, names(t, body))
}

// add_input naming another tenant's collection id, through the gateway: a
// caller of one tenant cannot feed a function from another's collection.
func TestAddInputOfAnotherTenantsCollectionRefused(t *testing.T) {
	up := newUpstream(t)
	docs, theirs := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77", "9d1e4c1a-2222-4b0a-9a53-5f2c1a9e8b77"
	up.collections = map[string][]string{"acme/prod": {docs}, "beta/prod": {theirs}}
	up.names = map[string]string{docs: "docs", theirs: "theirs"}
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	var out, errOut bytes.Buffer
	_, err := cli.RunKey(cli.IO{Stdout: &out, Stderr: &errOut}, cli.KeyArgs{Op: "create", File: keys, User: "bot", Tenant: "acme", Databases: "prod"})
	require.NoError(t, err, errOut.String())
	key := strings.TrimSpace(out.String())
	g := startGateway(t, fmt.Sprintf("\tchroma_auth keys_file %s\n%s", keys, proxyTo(up)))
	path := "/api/v2/tenants/acme/databases/prod/collections/" + docs + "/attached_functions/fn/add_input"
	up.reset()
	resp, _ := g.doBody(t, "POST", path, `{"input_collection_id":"`+theirs+`"}`, bearer(key))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	for _, r := range up.requests() {
		assert.NotContains(t, r.URI, "add_input", "the refused request never reached Chroma")
	}
	resp, _ = g.doBody(t, "POST", path, `{"input_collection_id":"`+docs+`"}`, bearer(key))
	assert.NotEqual(t, http.StatusForbidden, resp.StatusCode, "its own collection passes")
}
