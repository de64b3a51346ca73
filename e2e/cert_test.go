package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// certChromaAuth is the chroma_auth block of the client-certificate tests:
// Basic users and the users file's tokens beside certificates.
func certChromaAuth(extra string) string {
	return "chroma_auth {\n\t\tbasic " + suite.creds.htpasswd + "\n\t\tusers_file USERS\n\t\taudit\n" + extra + "\t}"
}

// certGoClient is chroma-go presenting the client certificate f through
// an http.Client of its own (WithHTTPClient), in tenant/database.
func certGoClient(t *testing.T, g *gateway, f leafFiles, tenant, database string) chroma.Client {
	t.Helper()
	c, err := chroma.NewHTTPClient(chroma.WithBaseURL(g.url), chroma.WithHTTPClient(certHTTPClient(t, g, f)),
		chroma.WithDatabaseAndTenant(database, tenant))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// certEnv is the mutual-TLS gateway TestClientCertificates runs against:
// the PKI, a tenant of its own (prod with docs and secret, dev with docs)
// and another tenant, the gateway and its users file.
type certEnv struct {
	p                    *certPKI
	tenant, other, token string
	key, jwt             string // an API key and a JWT of token-user
	oracle               *direct
	cg                   *certGateway
	docs                 string // the docs collection's path by name
}

func newCertEnv(t *testing.T) *certEnv {
	p := newCertPKI(t)
	tenant := uniqueName("mtls")
	createTenantAndDatabases(t, tenant, "prod", "dev")
	other := uniqueName("mtls-other")
	createTenantAndDatabases(t, other, "prod")
	oracle := chromaDirectAt(t, tenant, "prod")
	oracle.createCollection("docs", map[string][]float32{"a": {1, 0, 0}})
	oracle.createCollection("secret", map[string][]float32{"s": {0, 0, 1}})
	chromaDirectAt(t, tenant, "dev").createCollection("docs", map[string][]float32{"x": {1, 0, 0}})
	token := "tok-" + randomHex(12)
	rowsUsers := ""
	for _, u := range []string{"row-a", "row-b"} {
		rowsUsers += "  - id: " + u + "\n    tenant: " + tenant + "\n    databases: [prod]\n    rows: {owner: \"{user}\"}\n    certs: [\"CN=" + u + "\"]\n"
	}
	// An API key and a self-issued JWT of the token user, beside the certificates.
	dir := t.TempDir()
	keys, secret := filepath.Join(dir, "keys.jsonl"), filepath.Join(dir, "jwt.secret")
	key := createKeyCLI(t, keys, "--user", "token-user", "--tenant", tenant, "--databases", "prod")
	require.NoError(t, os.WriteFile(secret, []byte(randomHex(32)), 0o600))
	jwt := mintCertJWT(t, secret, tenant)
	cg := startCertGateway(t, p, "verify_if_given", p.usersYAML(tenant, token, rowsUsers),
		certChromaAuth("\t\tclient_cert\n\t\treload_interval 1s\n\t\tfailures_per_minute off\n\t\tkeys_file "+keys+
			"\n\t\tjwt {\n\t\t\tsecret_file "+secret+"\n\t\t\tissuer certs-e2e\n\t\t\taudience urn:chroma:certs-e2e\n"+
			"\t\t\ttenant_claim chroma.tenant\n\t\t\tdatabases_claim chroma.databases\n\t\t}\n"), leafFiles{})
	docs := "/api/v2/tenants/" + tenant + "/databases/prod/collections/docs"
	return &certEnv{p: p, tenant: tenant, other: other, token: token, key: key, jwt: jwt, oracle: oracle, cg: cg, docs: docs}
}

// mintCertJWT is a JWT of token-user in tenant/prod from the binary's
// `caddy chroma-auth jwt`, signed with the secret in secretFile.
func mintCertJWT(t *testing.T, secretFile, tenant string) string {
	t.Helper()
	out, err := exec.Command(suite.gatewayBin, "chroma-auth", "jwt", "--secret-file", secretFile, "--subject", "token-user",
		"--issuer", "certs-e2e", "--audience", "urn:chroma:certs-e2e", "--tenant", tenant, "--database", "prod",
		"--lifetime", "1h").Output()
	require.NoError(t, err, "chroma-auth jwt: %s", stderrOf(err))
	return strings.TrimSpace(string(out))
}

// TestClientCertificates is issue 25 through the real binary in front of
// the real Chroma, with a CA and certificates openssl made: Caddy verifies
// client certificates if given, and client_cert makes the verified ones
// the users whose certs: match them.
func TestClientCertificates(t *testing.T) {
	e := newCertEnv(t)
	t.Run("curl: each matcher kind names its user", e.matchers)
	t.Run("chroma-go presents a certificate; scope and grants hold", e.goClient)
	t.Run("rows hold for certificate users", e.rows)
	t.Run("another CA's, an expired and an unclaimed certificate never get 200", e.refused)
	t.Run("Basic, tokens, API keys and JWTs keep working beside certificates", e.beside)
	t.Run("the audit names the user and provider cert", e.audit)
	t.Run("explain --user decides as a certificate user", e.explain)
	t.Run("an unknown matcher fails the load and a reload, naming it", e.badMatcher)
	t.Run("a reload picks up changes to certs:", e.reload)
}

// matchers: curl: each matcher kind names its user.
func (e *certEnv) matchers(t *testing.T) {
	p, tenant, cg, docs := e.p, e.tenant, e.cg, e.docs
	for _, c := range []struct {
		f              leafFiles
		user, tenant   string
		matcher, dbOut string
	}{
		{p.indexer, "indexer", tenant, "URI", "prod"},
		{p.reader, "reader-svc", tenant, "DNS (in any case)", "prod"},
		{p.mailer, "mailer", tenant, "EMAIL (domain in any case)", "prod"},
		{p.ops, "ops", "default_tenant", "CN", "default_database"},
		{p.pinned, "pinned", tenant, "SHA256", "prod"},
	} {
		status, out, err := curlCert(t, cg.gateway, c.f, "GET", "/api/v2/auth/identity", "")
		require.NoError(t, err, "%s: %s", c.matcher, out)
		require.Equal(t, "200", status, "%s: %s", c.matcher, out)
		id := parseIdentity(t, bodyOf(out))
		assert.Equal(t, identityOf{UserID: c.user, Tenant: c.tenant, Databases: []string{c.dbOut}}, id, c.matcher)
	}
	// Through to Chroma: the placeholders name the user and provider.
	status, out, err := curlCert(t, cg.gateway, p.indexer, "GET", docs, "")
	require.NoError(t, err)
	require.Equal(t, "200", status, out)
	assert.Equal(t, "indexer", headerOf(out, "X-Auth-User"))
	assert.Equal(t, "cert", headerOf(out, "X-Auth-Provider"))
}

// goClient: chroma-go presents a certificate; scope and grants hold.
func (e *certEnv) goClient(t *testing.T) {
	p, tenant, other, oracle, cg := e.p, e.tenant, e.other, e.oracle, e.cg
	idx := certGoClient(t, cg.gateway, p.indexer, tenant, "prod")
	col, err := idx.GetCollection(t.Context(), "docs", chroma.WithEmbeddingFunctionGet(noModelEF()))
	require.NoError(t, err)
	require.NoError(t, col.Add(t.Context(), chroma.WithIDs("b", "c"), chroma.WithTexts("b", "c"),
		chroma.WithEmbeddings(emb(0, 1, 0), emb(0, 0, 1))))
	n, err := col.Count(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	res, err := col.Query(t.Context(), chroma.WithQueryEmbeddings(emb(0, 1, 0)), chroma.WithNResults(1))
	require.NoError(t, err)
	assert.Equal(t, chroma.DocumentIDs{"b"}, res.GetIDGroups()[0])
	_, err = idx.GetCollection(t.Context(), "secret", chroma.WithEmbeddingFunctionGet(noModelEF()))
	requireForbidden(t, err, "GetCollection secret (outside the indexer's grants)")
	_, err = certGoClient(t, cg.gateway, p.indexer, tenant, "dev").GetCollection(t.Context(), "docs",
		chroma.WithEmbeddingFunctionGet(noModelEF()))
	requireForbidden(t, err, "GetCollection in another database")
	_, err = certGoClient(t, cg.gateway, p.indexer, other, "prod").ListCollections(t.Context())
	requireForbidden(t, err, "ListCollections in another tenant")

	rd := certGoClient(t, cg.gateway, p.reader, tenant, "prod")
	rcol, err := rd.GetCollection(t.Context(), "docs", chroma.WithEmbeddingFunctionGet(noModelEF()))
	require.NoError(t, err)
	n, err = rcol.Count(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	err = rcol.Add(t.Context(), chroma.WithIDs("r"), chroma.WithTexts("r"), chroma.WithEmbeddings(emb(1, 1, 0)))
	requireForbidden(t, err, "Add by a read grant")
	assert.ElementsMatch(t, []string{"a", "b", "c"}, oracle.ids(oracle.collectionID("docs")))

	// The mailer has no collections key: every collection of prod.
	_, err = certGoClient(t, cg.gateway, p.mailer, tenant, "prod").GetCollection(t.Context(), "secret",
		chroma.WithEmbeddingFunctionGet(noModelEF()))
	require.NoError(t, err)
}

// rows: rows hold for certificate users.
func (e *certEnv) rows(t *testing.T) {
	p, tenant, oracle, cg := e.p, e.tenant, e.oracle, e.cg
	sharedID := oracle.createCollection("shared", map[string][]float32{})
	base := "/api/v2/tenants/" + tenant + "/databases/prod/collections/" + sharedID
	rowA := certGW(t, cg.gateway, p.ca.issue(t, leafSpec{name: "row-a", cn: "row-a"}))
	rowB := certGW(t, cg.gateway, p.ca.issue(t, leafSpec{name: "row-b", cn: "row-b"}))
	for c, id := range map[*gwClient]string{rowA: "a1", rowB: "b1"} {
		a := c.do("POST", base+"/add", "", `{"ids":["`+id+`"],"embeddings":[[1,0,0]]}`)
		require.Equal(t, http.StatusCreated, a.status, a.String())
	}
	var got struct {
		IDs       []string         `json:"ids"`
		Metadatas []map[string]any `json:"metadatas"`
	}
	a := rowA.do("POST", base+"/get", "", `{"include":["metadatas"]}`)
	require.Equal(t, http.StatusOK, a.status, a.String())
	require.NoError(t, json.Unmarshal(a.body, &got), a.String())
	assert.Equal(t, []string{"a1"}, got.IDs, "row-a sees its own records only")
	assert.Equal(t, []map[string]any{{"owner": "row-a"}}, got.Metadatas, "stamped with its user")
	a = rowB.do("GET", base+"/count", "", "")
	assert.Equal(t, "1", strings.TrimSpace(string(a.body)), a.String())
	assert.Equal(t, []string{"a1", "b1"}, oracle.ids(sharedID))
}

// refused: another CA's, an expired and an unclaimed certificate never get 200.
func (e *certEnv) refused(t *testing.T) {
	p, tenant, oracle, cg, docs := e.p, e.tenant, e.oracle, e.cg, e.docs
	add := `{"ids":["evil"],"embeddings":[[1,1,1]]}`
	docsID := oracle.collectionID("docs")
	addPath := "/api/v2/tenants/" + tenant + "/databases/prod/collections/" + docsID + "/add"
	for name, f := range map[string]leafFiles{"another CA": p.foreign, "expired": p.expired} {
		for _, path := range []string{"/api/v2/auth/identity", docs, addPath} {
			status, out, err := curlCert(t, cg.gateway, f, "POST", path, add)
			require.Error(t, err, "%s %s: curl got an answer: %s", name, path, out)
			assert.Equal(t, "000", status, "%s: no answer at all", name)
		}
		// Go's client sends no certificate the server's CA list does
		// not name (another CA's): then it is a request without
		// credentials.
		a, err := certGW(t, cg.gateway, f).try("GET", docs, "", "")
		if err == nil {
			assert.Equal(t, http.StatusUnauthorized, a.status, "%s: %s", name, a)
		}
		_, err = certGoClient(t, cg.gateway, f, tenant, "prod").GetCollection(t.Context(), "docs")
		require.Error(t, err, "%s: chroma-go got the collection", name)
	}
	leaf := leafOf(t, p.nobody)
	status, out, err := curlCert(t, cg.gateway, p.nobody, "GET", "/api/v2/auth/identity", "")
	require.NoError(t, err)
	assert.Equal(t, "401", status, "%s: %s", leaf.URIs[0], out)
	assert.JSONEq(t, `{"error":"AuthorizationError","message":"Unauthorized"}`, bodyOf(out))
	status, out, err = curlCert(t, cg.gateway, p.nobody, "POST", addPath, add)
	require.NoError(t, err)
	assert.Equal(t, "401", status, out)
	_, err = certGoClient(t, cg.gateway, p.nobody, tenant, "prod").GetCollection(t.Context(), "docs")
	requireUnauthorized(t, err, "GetCollection with an unclaimed certificate")
	assert.ElementsMatch(t, []string{"a", "b", "c"}, oracle.ids(docsID), "nothing reached Chroma")
}

// beside: Basic, tokens, API keys and JWTs keep working beside certificates.
func (e *certEnv) beside(t *testing.T) {
	p, token, cg, docs := e.p, e.token, e.cg, e.docs
	basic := credential{kind: credBasic, user: suite.creds.user, password: suite.creds.password}
	status, out, err := curlCert(t, cg.gateway, leafFiles{}, "GET", docs, "", basic.curlArgs()...)
	require.NoError(t, err)
	assert.Equal(t, "200", status, out)
	assert.Equal(t, suite.creds.user, headerOf(out, "X-Auth-User"))
	assert.Equal(t, "basic", headerOf(out, "X-Auth-Provider"))
	for provider, cred := range map[string]string{"token": token, "key": e.key, "jwt": e.jwt} {
		a := certGW(t, cg.gateway, leafFiles{}).do("GET", docs, cred, "")
		assert.Equal(t, http.StatusOK, a.status, "%s: %s", provider, a)
		assert.Equal(t, "token-user", a.header.Get("X-Auth-User"), provider)
		assert.Equal(t, provider, a.header.Get("X-Auth-Provider"))
	}
	wrong := credential{kind: credBasic, user: suite.creds.user, password: "wrong"}
	status, out, err = curlCert(t, cg.gateway, leafFiles{}, "GET", docs, "", wrong.curlArgs()...)
	require.NoError(t, err)
	assert.Equal(t, "401", status, out)
	// A certificate and a credential header: which identity is meant?
	a := certGW(t, cg.gateway, p.indexer).do("GET", docs, token, "")
	assert.Equal(t, http.StatusUnauthorized, a.status, a.String())
}

// audit: the audit names the user and provider cert.
func (e *certEnv) audit(t *testing.T) {
	cg := e.cg
	var allowed, forbidden, unclaimed bool
	lines := cg.auditLines(t, 10)
	defer func() {
		if t.Failed() {
			t.Logf("audit lines: %v", lines)
		}
	}()
	for _, l := range lines {
		switch {
		case l["user"] == "indexer" && l["decision"] == "allowed":
			allowed = true
			assert.Equal(t, "cert", l["provider"], l)
		case l["user"] == "indexer" && l["decision"] == "forbidden":
			forbidden = true
			assert.Equal(t, "cert", l["provider"], l)
		case l["reason"] == "cert_unclaimed":
			unclaimed = true
			assert.Equal(t, "cert", l["provider"], l)
			assert.Equal(t, "unauthorized", l["decision"], l)
			assert.Nil(t, l["user"], "an unclaimed certificate is nobody")
		}
	}
	assert.True(t, allowed && forbidden && unclaimed, "allowed %v, forbidden %v, unclaimed %v", allowed, forbidden, unclaimed)
}

// explain: explain --user decides as a certificate user.
func (e *certEnv) explain(t *testing.T) {
	tenant, cg, docs := e.tenant, e.cg, e.docs
	config := filepath.Join(filepath.Dir(cg.users), "Caddyfile")
	explain := func(path string) (string, error) {
		out, err := exec.Command(suite.gatewayBin, "chroma-auth", "explain", "--config", config, "--user", "indexer", "GET", path).CombinedOutput()
		return string(out), err
	}
	out, err := explain(docs)
	require.NoError(t, err, out)
	assert.Contains(t, out, "caller: indexer (cert), configured at "+cg.users+":")
	out, err = explain("/api/v2/tenants/" + tenant + "/databases/prod/collections/secret")
	require.Error(t, err, out)
	assert.Contains(t, out, "decision: refused (403)")
}

// badMatcher: an unknown matcher fails the load and a reload, naming it.
func (e *certEnv) badMatcher(t *testing.T) {
	p, tenant, token, cg := e.p, e.tenant, e.token, e.cg
	bad := strings.Replace(p.usersYAML(tenant, token, ""), `certs: ["CN=ops"]`, `certs: ["CN=ops", "OU=platform"]`, 1)
	want := `user \"ops\": certs[1]: unknown matcher \"OU\"` // in a JSON log line
	// At load: caddy validate on a copy of the config with the bad file.
	dir := t.TempDir()
	users := filepath.Join(dir, "users.yaml")
	require.NoError(t, os.WriteFile(users, []byte(bad), 0o600))
	cfg, err := os.ReadFile(filepath.Join(filepath.Dir(cg.users), "Caddyfile"))
	require.NoError(t, err)
	config := filepath.Join(dir, "Caddyfile")
	require.NoError(t, os.WriteFile(config, []byte(strings.ReplaceAll(string(cfg), cg.users, users)), 0o600))
	out, err := exec.Command(suite.gatewayBin, "validate", "--config", config, "--adapter", "caddyfile").CombinedOutput()
	require.Error(t, err, "validate must fail: %s", out)
	assert.Contains(t, string(out), users+":", "the file is named")
	assert.Contains(t, string(out), want)
	// At a reload: the last good certs stay in force, the log names it.
	replaceFile(t, cg.users, bad)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(cg.proc.log(), want) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	require.Contains(t, cg.proc.log(), want, "the failed reload is logged")
	a := certGW(t, cg.gateway, p.ops).do("GET", "/api/v2/auth/identity", "", "")
	assert.Equal(t, http.StatusOK, a.status, "the last good certs: %s", a)
}

// reload: a reload picks up changes to certs:.
func (e *certEnv) reload(t *testing.T) {
	p, tenant, token, cg := e.p, e.tenant, e.token, e.cg
	text := p.usersYAML(tenant, token, "  - id: late\n    tenant: "+tenant+"\n    databases: [prod]\n    certs: [\"URI="+p.nobodyURI+"\"]\n")
	text = strings.Replace(text, `certs: ["URI=`+p.indexerURI+`"]`, `certs: ["DNS=retired.example.org"]`, 1)
	replaceFile(t, cg.users, text)
	whoIs := func(f leafFiles) answer { return certGW(t, cg.gateway, f).do("GET", "/api/v2/auth/identity", "", "") }
	deadline := time.Now().Add(15 * time.Second)
	for whoIs(p.nobody).status != http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	a := whoIs(p.nobody)
	require.Equal(t, http.StatusOK, a.status, "the new user's certificate: %s", a)
	assert.Equal(t, "late", parseIdentity(t, string(a.body)).UserID)
	a = whoIs(p.indexer)
	assert.Equal(t, http.StatusUnauthorized, a.status, "the certificate whose matcher went: %s", a)
}
