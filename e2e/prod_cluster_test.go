package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	clusterReload = time.Second // reload_interval of both gateways
	// clusterFailures is the failures_per_minute of both gateways: above
	// the failures the polls below cause (the refusals before a change is
	// in force), so that the valid credentials are never limited.
	clusterFailures = 30
)

// clusterLines is the site of gateway name: a header telling which one
// answered, and chroma_auth on the shared files.
func clusterLines(c prodCreds, name string) string {
	return fmt.Sprintf(`	header X-Gateway %s
	chroma_auth {
		basic %s
		token_file %s
		reload_interval %s
		failures_per_minute %d
%s
	}`, name, c.htpasswd, c.tokenFile, clusterReload, clusterFailures, jwtLines(c))
}

// TestProdSeveralGateways runs two gateway processes that share only the
// credential files and Caddy's storage (so one local CA and certificate),
// behind a third Caddy that balances round-robin, in front of the suite's
// Chroma:
//   - the balancer reaches both;
//   - a credential change (a user added and one removed with the binary's
//     htpasswd tool, a token replaced in the token file in place) reaches
//     both gateways within the reload interval;
//   - a JWT is accepted by both, each verifying it itself with the shared
//     secret file, and a new secret (the file replaced) reaches both
//     within the reload interval: old tokens refused, new ones accepted;
//   - the failure limiter is per gateway (each counts its own failures).
func TestProdSeveralGateways(t *testing.T) {
	creds := newProdCreds(t, 0)
	storage := filepath.Join(t.TempDir(), "caddy-storage")
	g1 := startProdGateway(t, prodSite{storage: storage, lines: clusterLines(creds, "g1"), upstreams: suite.chroma.addr})
	g2 := startProdGateway(t, prodSite{storage: storage, lines: clusterLines(creds, "g2"), upstreams: suite.chroma.addr})
	require.Equal(t, g1.caRoot, g2.caRoot, "one CA in the shared storage")
	lb := startProdGateway(t, prodSite{storage: storage,
		upstreams: fmt.Sprintf("https://localhost:%d https://localhost:%d", g1.port, g2.port),
		transport: "\t\t\ttls_trust_pool file " + g1.caRoot,
		proxy:     "\t\tlb_policy round_robin",
	})
	path := "/api/v2/tenants/default_tenant/databases/default_database/collections_count"
	lbClient := freshClient(t, lb.caRoot)

	alice, oldToken := creds.basic(), creds.bearer()
	bob := creds.bobCred()
	newToken := credential{kind: credBearer, token: "rotated-" + randomHex(8)}

	t.Run("the balancer reaches both gateways", func(t *testing.T) {
		assert.Equal(t, map[string]int{"g1 200": 2, "g2 200": 2}, answeredBy(t, lbClient, lb.url+path, alice, 4))
		assert.Equal(t, map[string]int{"g1 401": 2, "g2 401": 2}, answeredBy(t, lbClient, lb.url+path, bob, 4))
	})

	t.Run("a credential change reaches both within the reload interval", func(t *testing.T) {
		changed := time.Now()
		htpasswdTool(t, "add", creds.htpasswd, bob.user, bob.password)
		htpasswdTool(t, "remove", creds.htpasswd, alice.user, "")
		tokens, err := os.ReadFile(creds.tokenFile)
		require.NoError(t, err)
		// In place, as an editor that does not rename would.
		require.NoError(t, os.WriteFile(creds.tokenFile, bytes.Replace(tokens, []byte(oldToken.token), []byte(newToken.token), 1), 0o600))

		// Each gateway polls every interval and loads at once: one interval,
		// plus slack for a busy CI machine (the time taken is logged).
		bound := clusterReload + 3*time.Second
		for _, g := range []*prodGateway{g1, g2} {
			fresh := freshClient(t, g.caRoot)
			// A reload that reads the files while they change may take the
			// new token file with the htpasswd file before alice's
			// removal: so the poll waits for both. alice (cached) passes
			// until she is removed, costing no failure; bob, added before
			// her removal, is asked (a first bcrypt) only then.
			took := pollUntil(t, changed, bound, func() bool {
				return status(t, fresh, g.url+path, newToken) == http.StatusOK &&
					status(t, fresh, g.url+path, alice) == http.StatusUnauthorized
			})
			require.Equal(t, http.StatusOK, status(t, fresh, g.url+path, bob), "added user")
			t.Logf("gateway on port %d: new credentials in force %v after the change", g.port, took.Round(10*time.Millisecond))
			assert.Equal(t, http.StatusUnauthorized, status(t, fresh, g.url+path, oldToken), "replaced token")
		}
		t.Logf("both gateways have the change %v after it", time.Since(changed).Round(10*time.Millisecond))
		assert.Equal(t, map[string]int{"g1 200": 2, "g2 200": 2}, answeredBy(t, lbClient, lb.url+path, bob, 4))
		assert.Equal(t, map[string]int{"g1 200": 2, "g2 200": 2}, answeredBy(t, lbClient, lb.url+path, newToken, 4))
		assert.Equal(t, map[string]int{"g1 401": 2, "g2 401": 2}, answeredBy(t, lbClient, lb.url+path, alice, 4))
	})

	t.Run("a JWT is accepted by both gateways, and a new secret reaches both", func(t *testing.T) {
		clusterJWT(t, creds, g1, g2, lbClient, lb.url, path)
	})

	t.Run("the failure limiter is per gateway", func(t *testing.T) {
		wrong := credential{kind: credBearer, token: "wrong-" + randomHex(8)}
		f1, f2 := freshClient(t, g1.caRoot), freshClient(t, g2.caRoot)
		n := 0
		for ; n <= clusterFailures+2 && status(t, f1, g1.url+path, wrong) != http.StatusTooManyRequests; n++ {
		}
		require.LessOrEqual(t, n, clusterFailures, "g1 limits after its own budget of failures")
		assert.Equal(t, http.StatusUnauthorized, status(t, f2, g2.url+path, wrong), "g2 has its own budget")
		assert.Equal(t, http.StatusOK, status(t, f1, g1.url+path, bob), "valid credentials still pass on g1")
	})
}

// clusterJWT: the gateways share nothing but the secret file (no cache,
// no session), so a token that one gateway accepts and the other accepts
// too, never having seen it, was verified by each itself. Then the secret
// file is replaced (a new file renamed over it, as a Kubernetes Secret or
// an editor does): within the reload interval each gateway refuses the
// tokens of the old secret, though it had them cached, and accepts those
// of the new one.
func clusterJWT(t *testing.T, creds prodCreds, g1, g2 *prodGateway, lbClient *http.Client, lbBase, path string) {
	lbURL := lbBase + path
	f1, f2 := freshClient(t, g1.caRoot), freshClient(t, g2.caRoot)
	old := creds.jwtCred()
	unseen := credential{kind: credBearer, token: mintProdJWT(t, creds.jwtSecret, "jwt-app-2")}
	require.Equal(t, http.StatusOK, status(t, f1, g1.url+path, unseen), "g1 verifies a new token")
	require.Equal(t, http.StatusOK, status(t, f2, g2.url+path, unseen), "g2 verifies the token g1 accepted, itself")
	require.Equal(t, http.StatusOK, status(t, f2, g2.url+path, old), "g2 verifies another token")
	require.Equal(t, http.StatusOK, status(t, f1, g1.url+path, old), "g1 verifies the token g2 accepted, itself")
	assert.Equal(t, map[string]int{"g1 200": 2, "g2 200": 2}, answeredBy(t, lbClient, lbURL, old, 4))

	changed := time.Now()
	next := creds.jwtSecret + ".next"
	require.NoError(t, os.WriteFile(next, []byte(randomHex(32)+"\n"), 0o600))
	require.NoError(t, os.Rename(next, creds.jwtSecret))
	renewed := credential{kind: credBearer, token: mintProdJWT(t, creds.jwtSecret, "jwt-app")}
	bound := clusterReload + 3*time.Second
	for _, g := range []*prodGateway{g1, g2} {
		fresh := freshClient(t, g.caRoot)
		// Polled with the old token, which passes (no failure counted)
		// until the new secret is in force: a gateway swaps its keys in
		// whole, so from then on the new token passes at once. Polling
		// with the new one would spend the failure limiter's budget.
		took := pollUntil(t, changed, bound, func() bool {
			return status(t, fresh, g.url+path, old) == http.StatusUnauthorized
		})
		require.Equal(t, http.StatusOK, status(t, fresh, g.url+path, renewed), "a token of the new secret")
		assert.Equal(t, http.StatusUnauthorized, status(t, fresh, g.url+path, unseen), "another token of the old secret")
		t.Logf("gateway on port %d: new JWT secret in force %v after the change", g.port, took.Round(10*time.Millisecond))
	}
	assert.Equal(t, map[string]int{"g1 200": 2, "g2 200": 2}, answeredBy(t, lbClient, lbURL, renewed, 4))
	assert.Equal(t, map[string]int{"g1 401": 2, "g2 401": 2}, answeredBy(t, lbClient, lbURL, old, 4))
}

// answeredBy sends n requests and counts "gateway status" of the answers.
func answeredBy(t *testing.T, client *http.Client, url string, cred credential, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		status, hdr, _ := probe(t, client, http.MethodGet, url, cred, "")
		got[hdr.Get("X-Gateway")+" "+strconv.Itoa(status)]++
	}
	return got
}

func status(t *testing.T, client *http.Client, url string, cred credential) int {
	t.Helper()
	s, _, _ := probe(t, client, http.MethodGet, url, cred, "")
	return s
}

// pollUntil calls ok until it is true or bound has passed since start
// (then fails), and returns how long after start it was true.
func pollUntil(t *testing.T, start time.Time, bound time.Duration, ok func() bool) time.Duration {
	t.Helper()
	for !ok() {
		require.Less(t, time.Since(start), bound, "not in force within %v", bound)
		time.Sleep(200 * time.Millisecond)
	}
	return time.Since(start)
}

// htpasswdTool runs the binary's `caddy chroma-auth htpasswd <verb>`, the
// password (if any) on stdin, as an operator would.
func htpasswdTool(t *testing.T, verb, file, user, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.gatewayBin, "chroma-auth", "htpasswd", verb, "--file", file, "--user", user)
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "htpasswd %s: %s", verb, out)
}
