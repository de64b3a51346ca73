package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pyResult is what e2e/python/tutorial.py prints.
type pyResult struct {
	Chromadb        string         `json:"chromadb"`
	HeartbeatStatus int            `json:"heartbeat_status"`
	Heartbeat       bool           `json:"heartbeat"`
	Version         string         `json:"version"`
	PublicError     *pyError       `json:"public_error"`
	Refused         *pyError       `json:"refused"`
	Query           []string       `json:"query"`
	GetWhere        []string       `json:"get_where"`
	Updated         []string       `json:"updated"`
	Count           int            `json:"count"`
	Metadata        map[string]any `json:"metadata"`
	Listed          bool           `json:"listed"`
	Deleted         bool           `json:"deleted"`
	LifeError       *pyError       `json:"life_error"`
}

type pyError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// pyAuth is a credential as the Python client's settings take it.
func pyAuth(c credential) []string {
	switch c.kind {
	case credBasic:
		return []string{"AUTH=basic", "CREDENTIALS=" + c.user + ":" + c.password}
	case credBearer:
		return []string{"AUTH=token", "CREDENTIALS=" + c.token, "TOKEN_HEADER=Authorization"}
	case credXChromaToken:
		return []string{"AUTH=token", "CREDENTIALS=" + c.token, "TOKEN_HEADER=X-Chroma-Token"}
	}
	return []string{"AUTH=none"}
}

// runPython runs e2e/python/tutorial.py with the chromadb 1.5.9 venv's
// interpreter against g.
func runPython(t *testing.T, g *gateway, c credential, env ...string) pyResult {
	t.Helper()
	var r pyResult
	runPyScript(t, 2*time.Minute, g, "tutorial.py", &r, append(pyAuth(c), env...)...)
	assert.Equal(t, "1.5.9", r.Chromadb)
	return r
}

// assertTutorial checks the whole flow of tutorial.py passed.
func assertTutorial(t *testing.T, r pyResult) {
	t.Helper()
	assert.Equal(t, 200, r.HeartbeatStatus, "heartbeat without credentials")
	assert.Nil(t, r.PublicError)
	assert.True(t, r.Heartbeat)
	assert.Equal(t, suite.chroma.version, r.Version)
	require.NotNil(t, r.Refused, "a protected call without credentials must fail")
	assert.Contains(t, r.Refused.Message, "Unauthorized", "%+v", r.Refused)
	require.Nil(t, r.LifeError, "collection life cycle")
	assert.Equal(t, []string{"b"}, r.Query)
	assert.Equal(t, []string{"b", "c"}, r.GetWhere)
	assert.Equal(t, []string{"apricot"}, r.Updated)
	assert.Equal(t, 3, r.Count, "a, c, d")
	assert.Equal(t, "modified", r.Metadata["step"])
	assert.True(t, r.Listed)
	assert.True(t, r.Deleted)
}

// TestPythonClient: the Python client (chromadb 1.5.9) as the seeds'
// tutorial uses it, over HTTPS trusting Caddy's local CA by
// chroma_server_ssl_verify, with Basic, Bearer and X-Chroma-Token, in front
// of Chroma 1.5.9.
func TestPythonClient(t *testing.T) {
	for _, m := range suite.creds.modes() {
		t.Run(m.name, func(t *testing.T) {
			g := startGateway(t, m.directive)
			name := uniqueName("py-" + m.name)
			t.Cleanup(func() { chromaDirect(t).deleteCollection(name) })
			assertTutorial(t, runPython(t, g, m.good, "COLLECTION="+name))

			wrong := runPython(t, g, m.wrong, "COLLECTION="+name, "STEPS=life")
			require.NotNil(t, wrong.LifeError, "a wrong credential must fail")
			assert.Contains(t, wrong.LifeError.Message, "Unauthorized", "%+v", wrong.LifeError)
			assert.Empty(t, chromaDirect(t).collectionID(name), "nothing was made with a wrong credential")
		})
	}
}

// TestPythonClientScoped: the Python client as a tenant-scoped user given
// its tenant= and database=, and as a user with collection grants.
func TestPythonClientScoped(t *testing.T) {
	tenant := uniqueName("pyscoped")
	createTenantAndDatabases(t, tenant, "prod")
	scoped := credential{kind: credBearer, token: "py-scoped-" + randomHex(8)}
	granted := credential{kind: credXChromaToken, token: "py-grants-" + randomHex(8)}
	users := writeUsers(t,
		tokenUser{id: "scoped", token: scoped.token, tenant: tenant, databases: []string{"prod"}},
		tokenUser{id: "granted", token: granted.token, tenant: tenant, databases: []string{"prod"},
			collections: map[string]string{"py-*": "admin"}})
	prod := chromaDirectAt(t, tenant, "prod")

	t.Run("tenant-scoped user", func(t *testing.T) {
		g := startGateway(t, "chroma_auth {\n\t\ttoken_file "+users+"\n\t}")
		name := uniqueName("scoped")
		t.Cleanup(func() { prod.deleteCollection(name) })
		assertTutorial(t, runPython(t, g, scoped, "COLLECTION="+name, "TENANT="+tenant, "DATABASE=prod"))

		// Without tenant= and database=, chromadb 1.5.9 asks the identity
		// endpoint and lands in the user's own tenant and database.
		landed := runPython(t, g, scoped, "COLLECTION="+name, "STEPS=life")
		assert.Nil(t, landed.LifeError, "the client lands in %s/prod", tenant)
		assert.Equal(t, 3, landed.Count)
	})

	t.Run("user with collection grants", func(t *testing.T) {
		g := startGateway(t, "chroma_auth {\n\t\ttoken_file "+users+"\n\t\ttoken_header X-Chroma-Token\n\t}")
		name := uniqueName("py-granted")
		t.Cleanup(func() { prod.deleteCollection(name) })
		assertTutorial(t, runPython(t, g, granted, "COLLECTION="+name, "TENANT="+tenant, "DATABASE=prod"))

		outside := uniqueName("other")
		r := runPython(t, g, granted, "COLLECTION="+outside, "TENANT="+tenant, "DATABASE=prod", "STEPS=life")
		require.NotNil(t, r.LifeError, "a name outside py-* is not granted")
		assert.Contains(t, r.LifeError.Message, "Forbidden", "%+v", r.LifeError)
		assert.Empty(t, prod.collectionID(outside))
	})
}

// pyCollectionLife runs the tutorial's whole flow (public calls, a refusal
// without credentials, the collection life cycle) with the Python client
// and cred, in tenant/database when given (the client's tenant= and
// database=), and checks Chroma has nothing left of it.
func pyCollectionLife(t *testing.T, g *gateway, cred credential, tenant, database string) {
	t.Helper()
	oracle := chromaDirect(t)
	env := []string{}
	if tenant != "" {
		oracle = chromaDirectAt(t, tenant, database)
		env = append(env, "TENANT="+tenant, "DATABASE="+database)
	}
	name := uniqueName("py-life")
	t.Cleanup(func() { oracle.deleteCollection(name) })
	assertTutorial(t, runPython(t, g, cred, append(env, "COLLECTION="+name)...))
	assert.Empty(t, oracle.collectionID(name), "Chroma no longer has the collection")
}

// TestPythonTutorialSettings: what chromadb 1.5.9 makes of the client
// settings the seeds' tutorial uses, as the README's client section says:
// the 0.4 provider names and shorthands fail, the token header takes only
// Authorization or X-Chroma-Token, and the tutorial's
// chroma_client_auth_token_transport_header is ignored (the token goes in
// Authorization).
func TestPythonTutorialSettings(t *testing.T) {
	var got map[string]string
	runPyScript(t, time.Minute, nil, "old_settings.py", &got)
	want := map[string]string{
		"provider basic": "ValueError: ",
		"provider token": "ValueError: ",
		"provider chromadb.auth.basic.BasicAuthClientProvider":                 "ModuleNotFoundError: No module named 'chromadb.auth.basic'",
		"provider chromadb.auth.token.TokenAuthClientProvider":                 "ModuleNotFoundError: No module named 'chromadb.auth.token'",
		"header X_CHROMA_TOKEN":                                                "ValueError: Invalid token transport header: X_CHROMA_TOKEN",
		"header AUTHORIZATION":                                                 "ValueError: Invalid token transport header: AUTHORIZATION",
		"old setting chroma_client_auth_token_transport_header=X_CHROMA_TOKEN": "sends Authorization",
	}
	require.Len(t, got, len(want))
	for k, v := range want {
		assert.True(t, strings.HasPrefix(got[k], v), "%s: %q, want %q...", k, got[k], v)
	}
}
