package chromaauth

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scrape reads one sample from Caddy's admin /metrics.
func scrape(t *testing.T, admin, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(string(body))
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

func TestMetricsAtTheAdminEndpoint(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "pw"})
	port, adminPort := freePort(t), freePort(t)
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort)
	cfg := strings.Replace(caddyfileSite(port, fmt.Sprintf("\tchroma_auth {\n\t\tbasic %s\n\t\tfailures_per_minute 2\n\t}\n%s", ht, proxyTo(up))),
		"admin off", "admin "+admin, 1)
	g := serveConfig(t, port, cfg)

	series := map[string]string{
		"allowed":  `caddy_chroma_auth_requests_total{result="allowed"}`,
		"public":   `caddy_chroma_auth_requests_total{result="public"}`,
		"denied":   `caddy_chroma_auth_requests_total{result="denied"}`,
		"limited":  `caddy_chroma_auth_requests_total{result="rate_limited"}`,
		"missing":  `caddy_chroma_auth_denied_total{reason="missing_credentials"}`,
		"invalid":  `caddy_chroma_auth_denied_total{reason="invalid_credentials"}`,
		"bcrypt":   `caddy_chroma_auth_bcrypt_checks_total`,
		"hits":     `caddy_chroma_auth_cache_hits_total`,
		"entries":  `caddy_chroma_auth_cache_entries`,
		"rlreason": `caddy_chroma_auth_denied_total{reason="rate_limited"}`,
	}
	before := map[string]float64{}
	for k, s := range series {
		before[k] = scrape(t, admin, s)
	}
	good := map[string]string{"Authorization": basicHeader("alice", "pw")}
	bad := map[string]string{"Authorization": basicHeader("alice", "nope")}
	g.do(t, "GET", "/api/v2/tenants/t", good) // bcrypt
	g.do(t, "GET", "/api/v2/tenants/t", good) // cache hit
	g.do(t, "GET", "/api/v2/tenants/t", good) // cache hit
	g.do(t, "GET", "/api/v2/heartbeat", nil)
	g.do(t, "GET", "/api/v2/tenants/t", nil)
	g.do(t, "GET", "/api/v2/tenants/t", bad) // bcrypt, failure 1
	g.do(t, "GET", "/api/v2/tenants/t", bad) // bcrypt, failure 2
	g.do(t, "GET", "/api/v2/tenants/t", bad) // 429, no bcrypt

	delta := func(k string) float64 { return scrape(t, admin, series[k]) - before[k] }
	assert.Equal(t, 3.0, delta("allowed"))
	assert.Equal(t, 1.0, delta("public"))
	assert.Equal(t, 3.0, delta("denied"))
	assert.Equal(t, 1.0, delta("limited"))
	assert.Equal(t, 1.0, delta("missing"))
	assert.Equal(t, 2.0, delta("invalid"))
	assert.Equal(t, 1.0, delta("rlreason"))
	assert.Equal(t, 3.0, delta("bcrypt"))
	assert.Equal(t, 2.0, delta("hits"))
	assert.Equal(t, 1.0, scrape(t, admin, series["entries"]), "alice is cached")
}

// TestMetricsForbiddenMalformedAmbiguous: the results and reasons the
// first metrics test does not reach: a 403 (result forbidden, reason
// forbidden), a malformed credential and an ambiguous one.
func TestMetricsForbiddenMalformedAmbiguous(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "pw"})
	users := writeTestFile(t, dir, "users.yaml", "users:\n  - id: alice\n    tenant: acme\n    databases: [prod]\n    tokens: [tok-acme]\n")
	port, adminPort := freePort(t), freePort(t)
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort)
	cfg := strings.Replace(caddyfileSite(port, fmt.Sprintf("\tchroma_auth {\n\t\tbasic %s\n\t\tusers_file %s\n\t\ttoken_header X-Chroma-Token\n\t}\n%s", ht, users, proxyTo(up))),
		"admin off", "admin "+admin, 1)
	g := serveConfig(t, port, cfg)

	series := map[string]string{
		"forbidden":        `caddy_chroma_auth_requests_total{result="forbidden"}`,
		"denied":           `caddy_chroma_auth_requests_total{result="denied"}`,
		"allowed":          `caddy_chroma_auth_requests_total{result="allowed"}`,
		"reason-forbidden": `caddy_chroma_auth_denied_total{reason="forbidden"}`,
		"malformed":        `caddy_chroma_auth_denied_total{reason="malformed_credentials"}`,
		"ambiguous":        `caddy_chroma_auth_denied_total{reason="ambiguous_credentials"}`,
	}
	before := map[string]float64{}
	for k, s := range series {
		before[k] = scrape(t, admin, s)
	}
	resp, _ := g.do(t, "GET", "/api/v2/tenants/acme", map[string]string{"X-Chroma-Token": "tok-acme"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = g.do(t, "GET", "/api/v2/tenants/beta", map[string]string{"X-Chroma-Token": "tok-acme"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = g.do(t, "GET", "/api/v2/tenants/acme", map[string]string{"Authorization": "Basic !!!"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = g.do(t, "GET", "/api/v2/tenants/acme", map[string]string{"Authorization": basicHeader("alice", "pw"), "X-Chroma-Token": "tok-acme"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	delta := func(k string) float64 { return scrape(t, admin, series[k]) - before[k] }
	assert.Equal(t, 1.0, delta("allowed"))
	assert.Equal(t, 1.0, delta("forbidden"))
	assert.Equal(t, 1.0, delta("reason-forbidden"))
	assert.Equal(t, 2.0, delta("denied"))
	assert.Equal(t, 1.0, delta("malformed"))
	assert.Equal(t, 1.0, delta("ambiguous"))
}
