package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientCertificateRequired is `client_cert required` through the real
// binary: with client_auth mode require_and_verify nothing without a
// certificate of the CA gets an answer; with verify_if_given, a valid
// password or token without a certificate is 401 cert_required while
// public routes stay open.
func TestClientCertificateRequired(t *testing.T) {
	p := newCertPKI(t)
	tenant := uniqueName("mtls-req")
	createTenantAndDatabases(t, tenant, "prod")
	oracle := chromaDirectAt(t, tenant, "prod")
	oracle.createCollection("docs", map[string][]float32{"a": {1, 0, 0}})
	docs := "/api/v2/tenants/" + tenant + "/databases/prod/collections/docs"
	token := "tok-" + randomHex(12)
	basic := credential{kind: credBasic, user: suite.creds.user, password: suite.creds.password}
	users := p.usersYAML(tenant, token, "")

	t.Run("require_and_verify", func(t *testing.T) {
		g := startCertGateway(t, p, "require_and_verify", users, certChromaAuth("\t\tclient_cert required\n"), p.indexer)
		for name, c := range map[string]struct {
			f     leafFiles
			extra []string
		}{
			"no certificate":               {leafFiles{}, nil},
			"no certificate, Basic":        {leafFiles{}, basic.curlArgs()},
			"another CA's certificate":     {p.foreign, nil},
			"an expired certificate":       {p.expired, nil},
			"no certificate, a good token": {leafFiles{}, []string{"--header", "Authorization: Bearer " + token}},
		} {
			for _, path := range []string{"/api/v2/heartbeat", docs} {
				status, out, err := curlCert(t, g.gateway, c.f, "GET", path, "", c.extra...)
				require.Error(t, err, "%s, %s: curl got an answer: %s", name, path, out)
				assert.Equal(t, "000", status, "%s, %s", name, path)
			}
		}
		status, out, err := curlCert(t, g.gateway, p.indexer, "GET", docs, "")
		require.NoError(t, err)
		assert.Equal(t, "200", status, out)
		assert.Equal(t, "indexer", headerOf(out, "X-Auth-User"))
		status, out, err = curlCert(t, g.gateway, p.nobody, "GET", docs, "")
		require.NoError(t, err)
		assert.Equal(t, "401", status, "a verified certificate nobody claims: %s", out)
	})

	t.Run("verify_if_given", func(t *testing.T) {
		g := startCertGateway(t, p, "verify_if_given", users, certChromaAuth("\t\tclient_cert required\n"), leafFiles{})
		status, out, err := curlCert(t, g.gateway, leafFiles{}, "GET", "/api/v2/heartbeat", "")
		require.NoError(t, err)
		assert.Equal(t, "200", status, "public routes need no certificate: %s", out)
		for name, extra := range map[string][]string{
			"Basic":   basic.curlArgs(),
			"a token": {"--header", "Authorization: Bearer " + token},
			"nothing": nil,
		} {
			status, out, err := curlCert(t, g.gateway, leafFiles{}, "GET", docs, "", extra...)
			require.NoError(t, err)
			assert.Equal(t, "401", status, "%s without a certificate: %s", name, out)
			assert.JSONEq(t, `{"error":"AuthorizationError","message":"Unauthorized"}`, bodyOf(out), name)
		}
		a := certGW(t, g.gateway, p.reader).do("GET", docs, "", "")
		assert.Equal(t, http.StatusOK, a.status, a.String())
		assert.Equal(t, "reader-svc", a.header.Get("X-Auth-User"))
		required := 0
		for _, l := range g.auditLines(t, 4) {
			if l["reason"] == "cert_required" {
				required++
			}
		}
		assert.Equal(t, 3, required, "the three requests without a certificate are audited as cert_required")
	})
}

// TestClientCertificateLimits: an unclaimed certificate spends its
// address's failure budget like a wrong password (a good credential the
// address never used is then 429), a claimed certificate still passes, and
// a certificate user's quotas (limits: in the users file) hold.
func TestClientCertificateLimits(t *testing.T) {
	p := newCertPKI(t)
	metered := p.ca.issue(t, leafSpec{name: "metered", cn: "metered"})
	tenant := uniqueName("mtls-lim")
	createTenantAndDatabases(t, tenant, "prod")
	oracle := chromaDirectAt(t, tenant, "prod")
	docsID := oracle.createCollection("docs", map[string][]float32{"a": {1, 0, 0}})
	docs := "/api/v2/tenants/" + tenant + "/databases/prod/collections/docs"
	token := "tok-" + randomHex(12)
	users := p.usersYAML(tenant, token, "  - id: metered\n    tenant: "+tenant+"\n    databases: [prod]\n"+
		"    certs: [\"CN=metered\"]\n    limits: {rate: 3/m, burst: 3, max_batch: 1}\n")
	g := startCertGateway(t, p, "verify_if_given", users, certChromaAuth("\t\tclient_cert\n\t\tfailures_per_minute 3\n"), leafFiles{})

	t.Run("unclaimed certificates spend the failure budget", func(t *testing.T) {
		for i := range 3 {
			a := certGW(t, g.gateway, p.nobody).do("GET", docs, "", "")
			require.Equal(t, http.StatusUnauthorized, a.status, "unclaimed %d: %s", i+1, a)
		}
		a := certGW(t, g.gateway, leafFiles{}).do("GET", docs, token, "")
		assert.Equal(t, http.StatusTooManyRequests, a.status, "a good token this address never used, once the budget is spent: %s", a)
		a = certGW(t, g.gateway, p.ops).do("GET", docs, "", "")
		assert.Equal(t, http.StatusOK, a.status, "a claimed certificate still passes: %s", a)
	})

	t.Run("a certificate user's quotas hold", func(t *testing.T) {
		c := certGW(t, g.gateway, metered)
		add := "/api/v2/tenants/" + tenant + "/databases/prod/collections/" + docsID + "/add"
		a := c.do("POST", add, "", `{"ids":["m1","m2"],"embeddings":[[0,1,0],[0,0,1]]}`)
		assert.Equal(t, http.StatusBadRequest, a.status, a.String())
		assert.Contains(t, string(a.body), `"QuotaError"`)
		assert.Contains(t, string(a.body), "max_batch")
		a = c.do("POST", add, "", `{"ids":["m1"],"embeddings":[[0,1,0]]}`)
		assert.Equal(t, http.StatusCreated, a.status, a.String())
		a = c.do("GET", docs, "", "")
		assert.Equal(t, http.StatusOK, a.status, a.String())
		a = c.do("GET", docs, "", "")
		assert.Equal(t, http.StatusTooManyRequests, a.status, "the fourth request of a 3/m rate: %s", a)
		assert.Contains(t, string(a.body), `"RateLimitError"`)
		assert.NotEmpty(t, a.header.Get("Retry-After"))
		assert.ElementsMatch(t, []string{"a", "m1"}, oracle.ids(docsID), "only the admitted add reached Chroma")
		a = certGW(t, g.gateway, p.pinned).do("GET", docs, "", "")
		assert.Equal(t, http.StatusOK, a.status, "another certificate user counts apart: %s", a)
	})
}
