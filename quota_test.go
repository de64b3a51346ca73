package chromaauth

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
)

const quotaColl = "/api/v2/tenants/acme/databases/prod/collections/0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"

const quotaUsers = `users:
  - id: alice
    tenant: acme
    tokens: [tok-alice]
    limits: { rate: 1/m, burst: 4 }
  - id: bob
    tenant: acme
    tokens: [tok-bob]
  - id: carol
    tenant: acme
    tokens: [tok-carol]
`

// assertRateLimited checks a 429 from the quotas: Retry-After, Chroma's
// RateLimitError body.
func assertRateLimited(t *testing.T, resp *http.Response, body string, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, msgAndArgs...)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"), msgAndArgs...)
	assert.Contains(t, body, `"error":"RateLimitError"`, msgAndArgs...)
}

// burstOf sends GETs until the first 429 and counts the ones let through.
func burstOf(t *testing.T, g *gateway, hdr map[string]string, most int) int {
	t.Helper()
	for i := 0; i < most; i++ {
		resp, body := g.do(t, "GET", quotaColl, hdr)
		if resp.StatusCode == http.StatusTooManyRequests {
			assertRateLimited(t, resp, body)
			return i
		}
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
	}
	return most
}

// The block's rate, a user's own, an API key's (never above its user's)
// and per tenant; what is refused never reaches upstream.
func TestQuotaRate(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	users := writeTestFile(t, dir, "users.yaml", quotaUsers)
	keys := filepath.Join(dir, "keys.jsonl")
	mkKey := func(a cli.KeyArgs) string {
		var out, errOut bytes.Buffer
		a.Op, a.File, a.User = "create", keys, "alice"
		_, err := cli.RunKey(cli.IO{Stdout: &out, Stderr: &errOut}, a)
		require.NoError(t, err, errOut.String())
		return strings.TrimSpace(out.String())
	}
	greedy := mkKey(cli.KeyArgs{Rate: "100/s", Burst: 100})
	modest := mkKey(cli.KeyArgs{Burst: 2, Rate: "1/m"})
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken_file %s\n\t\tkeys_file %s\n\t\tlimits {\n\t\t\trate 1/m\n\t\t\tburst 2\n\t\t}\n\t}\n%s", users, keys, proxyTo(up)))

	assert.Equal(t, 2, burstOf(t, g, bearer("tok-bob"), 10), "the block's burst")
	assert.Equal(t, 2, burstOf(t, g, bearer("tok-carol"), 10), "each user has its own")
	assert.Equal(t, 4, burstOf(t, g, bearer("tok-alice"), 10), "alice's own limits replace the block's")
	assert.Equal(t, 4, burstOf(t, g, bearer(greedy), 10), "a key asking for more gets its user's")
	assert.Equal(t, 2, burstOf(t, g, bearer(modest), 10), "a key asking for less gets its own")
	assert.Len(t, up.requests(), 2+2+4+4+2, "no refused request reached upstream")

	up2 := newUpstream(t)
	g = startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken_file %s\n\t\tlimits {\n\t\t\trate 1/m\n\t\t\tburst 3\n\t\t\tper tenant\n\t\t}\n\t}\n%s", users, proxyTo(up2)))
	n := burstOf(t, g, bearer("tok-bob"), 2)
	n += burstOf(t, g, bearer("tok-carol"), 10)
	assert.Equal(t, 3, n, "per tenant: bob and carol share acme's burst")
}

// A JWT's limits claim tightens its user's, never loosens them; a claim
// that is no object of limits refuses the token.
func TestQuotaJWTLimitsClaim(t *testing.T) {
	up := newUpstream(t)
	secret := strings.Repeat("s", 40)
	file := writeTestFile(t, t.TempDir(), "secret", secret)
	users := writeTestFile(t, t.TempDir(), "users.yaml", "users:\n  - id: alice\n    tokens: [tok-alice]\n    limits: { rate: 1/m, burst: 3 }\n")
	mint := func(limits any) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(secret)}, (&jose.SignerOptions{}).WithType("JWT"))
		require.NoError(t, err)
		now := time.Now()
		tok, err := jwt.Signed(signer).Claims(jwt.Claims{Subject: "alice", IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}).
			Claims(map[string]any{"quota": limits}).Serialize()
		require.NoError(t, err)
		return tok
	}
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken_file %s\n\t\tjwt {\n\t\t\tsecret_file %s\n\t\t\tlimits_claim quota\n\t\t}\n\t}\n%s", users, file, proxyTo(up)))
	assert.Equal(t, 3, burstOf(t, g, bearer(mint(map[string]any{"rate": "1000/s", "burst": 1000})), 10), "above alice's: alice's")
	resp, body := g.do(t, "GET", quotaColl, bearer(mint(map[string]any{"rate": "1/m", "burst": 1})))
	assertRateLimited(t, resp, body, "the same user's bucket is spent")
	resp, body = g.do(t, "GET", quotaColl, bearer(mint("lots")))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	resp, body = g.do(t, "GET", quotaColl, bearer(mint(map[string]any{"rate": "1/m", "bursts": 1})))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
}

// Requests in flight at once: one over the limit is 429 at once, the
// slots come back when requests end, and it never reaches upstream.
func TestQuotaConcurrent(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	arrived := 0
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/slow") {
			<-release
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(slow.Close)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken tok\n\t\tlimits {\n\t\t\tconcurrent 2\n\t\t}\n\t}\n\treverse_proxy %s\n", strings.TrimPrefix(slow.URL, "http://")))
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", g.URL+quotaColl+"/slow", nil)
			req.Header.Set("Authorization", "Bearer tok")
			resp, err := http.DefaultClient.Do(req)
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				resp.Body.Close()
			}
		}()
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return arrived == 2 }, 5*time.Second, 5*time.Millisecond)
	resp, body := g.do(t, "GET", quotaColl, bearer("tok"))
	assertRateLimited(t, resp, body, "a third at once")
	assert.Contains(t, body, "concurrent")
	close(release)
	wg.Wait()
	resp, body = g.do(t, "GET", quotaColl, bearer("tok"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	mu.Lock()
	assert.Equal(t, 3, arrived, "the refused one never reached upstream")
	mu.Unlock()
}

// Over a size limit: 400 with Chroma's QuotaError naming the limit, and
// nothing reaches upstream; within it, the body arrives unchanged.
func TestQuotaSizes(t *testing.T) {
	up := newUpstream(t)
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\ttoken tok\n\t\tlimits {\n\t\t\tmax_batch 2\n\t\t\tmax_results 10\n\t\t\tmax_where 2\n\t\t}\n\t}\n%s", proxyTo(up)))
	refused := []struct{ op, body, limit string }{
		{"add", `{"ids":["a","b","c"],"embeddings":[[1],[2],[3]]}`, "max_batch"},
		{"upsert", `{"embeddings":[[1],[2],[3]],"ids":["a","b","c"]}`, "max_batch"},
		{"delete", `{"ids":["a","b","c"]}`, "max_batch"},
		{"query", `{"query_embeddings":[[1]],"n_results":11}`, "max_results"},
		{"get", `{"limit":11}`, "max_results"},
		{"get", `{"where":{"$and":[{"a":1},{"b":2},{"c":3}]}}`, "max_where"},
	}
	for _, c := range refused {
		resp, body := g.doBody(t, "POST", quotaColl+"/"+c.op, c.body, bearer("tok"))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, c.body)
		assert.Contains(t, body, `"error":"QuotaError"`, c.body)
		assert.Contains(t, body, c.limit, c.body)
	}
	assert.Empty(t, up.requests(), "nothing over a size limit reaches upstream")
	body := `{"ids":["a","b"],"embeddings":[[1],[2]],"documents":["x","y"]}`
	resp, _ := g.doBody(t, "POST", quotaColl+"/add", body, bearer("tok"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = g.doBody(t, "POST", quotaColl+"/query", `{"query_embeddings":[[1]],"n_results":10,"where":{"a":1}}`, bearer("tok"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	seen := up.requests()
	require.Len(t, seen, 2)
	assert.Equal(t, body, seen[0].Body, "the body reaches upstream unchanged")
}

func TestQuotaCaddyfileErrors(t *testing.T) {
	for cfg, want := range map[string]string{
		"limits {\n rate 10/h\n}":       "rate",
		"limits {\n burst 0\n}":         "burst",
		"limits {\n burst 3\n}":         "burst needs a rate",
		"limits {\n max_rows 3\n}":      "unknown limit",
		"limits {\n per user\n}":        "per wants tenant",
		"limits 3":                      "takes a block",
		"limits {\n}\nlimits {\n}":      "twice",
		"limits {\n concurrent x\n}":    "whole number",
		"limits {\n rate 1/s 2/s\n}":    "exactly one argument",
		"limits {\n max_where -1\n}":    "whole number",
		"limits {\n max_results 1.5\n}": "whole number",
	} {
		err := loadCaddyfile(caddyfileSite(freePort(t), "\tchroma_auth {\n\t\ttoken tok\n"+cfg+"\n\t}\n\trespond 200\n"))
		if assert.Error(t, err, cfg) {
			assert.Contains(t, err.Error(), want, cfg)
		}
	}
	// A users file's bad limits name the file, line and user.
	users := writeTestFile(t, t.TempDir(), "users.yaml", "users:\n  - id: alice\n    tokens: [t1]\n    limits: { rate: 1/m, concurrent: -2 }\n")
	err := loadCaddyfile(caddyfileSite(freePort(t), "\tchroma_auth token_file "+users+"\n\trespond 200\n"))
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "users.yaml:2")
		assert.Contains(t, err.Error(), `user "alice"`)
	}
}
