package chromaauth

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// TestLimiterHonoursTrustedProxies: behind a trusted proxy each client
// address (from X-Forwarded-For) has its own failure budget; without
// trusted_proxies every client of the proxy shares the proxy's.
func TestLimiterHonoursTrustedProxies(t *testing.T) {
	dir := t.TempDir()
	tokens := writeTestFile(t, dir, "tokens.txt", "tok-good\n")
	for _, trusted := range []bool{true, false} {
		port := freePort(t)
		site := caddyfileSite(port, "\tchroma_auth {\n\t\ttoken_file "+tokens+"\n\t\tfailures_per_minute 2\n\t}\n\trespond ok")
		if trusted {
			site = strings.Replace(site, "admin off", "admin off\n\tservers {\n\t\ttrusted_proxies static 127.0.0.0/8\n\t}", 1)
		}
		g := serveConfig(t, port, site)
		status := func(client string) int {
			resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": "Bearer wrong", "X-Forwarded-For": client})
			return resp.StatusCode
		}
		require.Equal(t, http.StatusUnauthorized, status("203.0.113.1"))
		require.Equal(t, http.StatusUnauthorized, status("203.0.113.1"))
		require.Equal(t, http.StatusTooManyRequests, status("203.0.113.1"), "trusted=%v: past the budget", trusted)
		if trusted {
			assert.Equal(t, http.StatusUnauthorized, status("198.51.100.1"), "another client behind the trusted proxy has its own budget")
		} else {
			assert.Equal(t, http.StatusTooManyRequests, status("198.51.100.1"), "an untrusted X-Forwarded-For changes nothing")
		}
		require.NoError(t, loadCaddyfile(caddyfileSite(freePort(t), "\trespond ok"))) // next round: a fresh server
	}
}

// TestConfigReloadRestartsTheFailureCount: a client past its budget gets
// 401 (a fresh budget), not 429, once the config is reloaded.
func TestConfigReloadRestartsTheFailureCount(t *testing.T) {
	dir := t.TempDir()
	tokens := writeTestFile(t, dir, "tokens.txt", "tok-good\n")
	port := freePort(t)
	// The same handler in both configs; each generation marks its answers
	// (the header directive runs before chroma_auth), so that an answer of
	// the old config's server, which can still take a connection while
	// the reload swaps servers, is told apart and asked again.
	cfg := func(gen string) string {
		return caddyfileSite(port, "\theader X-Gen "+gen+"\n\tchroma_auth {\n\t\ttoken_file "+tokens+"\n\t\tfailures_per_minute 1\n\t}\n\trespond ok")
	}
	g := serveConfig(t, port, cfg("1"))
	// A connection the old config accepted as the reload swapped servers
	// is closed unanswered (see the README's "Stopping and reloading"): such
	// a request never reached the handler, so it is sent again.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	status := func(gen string) int {
		for i := 0; ; i++ {
			require.Less(t, i, 50, "no answer from config %s", gen)
			req, err := http.NewRequest("GET", g.URL+"/api/v2/tenants/t", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer wrong")
			resp, err := client.Do(req)
			if err != nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			resp.Body.Close()
			if resp.Header.Get("X-Gen") != gen {
				continue // the old config's server, still draining
			}
			return resp.StatusCode
		}
	}
	require.Equal(t, http.StatusUnauthorized, status("1"))
	require.Equal(t, http.StatusTooManyRequests, status("1"))
	require.NoError(t, loadCaddyfile(cfg("2"))) // caddy reload: the same handler
	assert.Equal(t, http.StatusUnauthorized, status("2"), "a reload starts a fresh count")
	assert.Equal(t, http.StatusTooManyRequests, status("2"))
}

// TestBcryptQueueWaitThen503: a Basic check that finds every bcrypt slot
// taken waits bcryptQueueTimeout (10 s, as the README says; shortened
// here), then is answered 503.
func TestBcryptQueueWaitThen503(t *testing.T) {
	old := bcryptQueueTimeout
	bcryptQueueTimeout = 10 * time.Millisecond
	t.Cleanup(func() { bcryptQueueTimeout = old })
	dir := t.TempDir()
	slow, err := bcrypt.GenerateFromPassword([]byte("slow-pw"), 10)
	require.NoError(t, err)
	fast, err := bcrypt.GenerateFromPassword([]byte("fast-pw"), bcrypt.MinCost)
	require.NoError(t, err)
	ht := writeTestFile(t, dir, "htpasswd", "slow:"+string(slow)+"\nfast:"+string(fast)+"\n")
	h := provisioned(t, handlerFromCaddyfile(t, "chroma_auth {\n\t\tbasic "+ht+"\n\t\tmax_concurrent_bcrypt 1\n\t\tfailures_per_minute off\n\t}"))

	// The slow user's check holds the one slot (its bcrypt has begun); a
	// check that comes meanwhile waits, then is answered 503. Should the
	// slow check end first on a loaded machine, the round is run again.
	for round := 0; ; round++ {
		require.Less(t, round, 20, "no check was ever answered 503 while the slot was taken")
		begun := h.auth.Stats().BcryptChecks
		done := make(chan int, 1)
		go func() { done <- serve(h, "192.0.2.1", basicHeader("slow", "wrong")) }()
		for h.auth.Stats().BcryptChecks == begun {
			time.Sleep(time.Millisecond)
		}
		code := serve(h, "192.0.2.2", basicHeader("fast", "wrong-"+strconv.Itoa(round)))
		slow := <-done
		if code == http.StatusServiceUnavailable {
			assert.Equal(t, http.StatusUnauthorized, slow, "the slow check itself ends as usual")
			return
		}
	}
}

// TestReloadIntervalOff: with reload_interval off, no watch of the
// credential files runs at all (no sleep waiting for the absence of a
// reload: there is nothing that could reload), and a changed file is not
// read again.
func TestReloadIntervalOff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokens := writeTestFile(t, dir, "tokens.txt", "tok-old\n")
	h := provisioned(t, handlerFromCaddyfile(t, "chroma_auth {\n\t\ttoken_file "+tokens+"\n\t\treload_interval off\n\t\tfailures_per_minute off\n\t}"))
	require.Nil(t, h.stopWatch, "no watch runs")
	require.Equal(t, http.StatusOK, serve(h, "192.0.2.1", "Bearer tok-old"))
	require.NoError(t, os.WriteFile(tokens+".tmp", []byte("tok-new\n"), 0o600))
	require.NoError(t, os.Rename(tokens+".tmp", tokens))
	assert.Equal(t, http.StatusOK, serve(h, "192.0.2.1", "Bearer tok-old"))
	assert.Equal(t, http.StatusUnauthorized, serve(h, "192.0.2.1", "Bearer tok-new"))
}

// TestChallengeAsTheReadmeQuotes: a 401 carries the WWW-Authenticate
// header the README quotes, word for word: Basic with charset when Basic
// auth is on, else Bearer for tokens in Authorization.
func TestChallengeAsTheReadmeQuotes(t *testing.T) {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "pw"})
	tokens := writeTestFile(t, dir, "tokens.txt", "tok-good\n")
	for directive, want := range map[string]string{
		"chroma_auth basic " + ht:          `Basic realm="Chroma", charset="UTF-8"`,
		"chroma_auth token_file " + tokens: `Bearer realm="Chroma"`,
	} {
		require.Contains(t, string(b), "`WWW-Authenticate: "+want+"`", "README quotes the challenge")
		h := provisioned(t, handlerFromCaddyfile(t, directive))
		w := serveRec(h, "192.0.2.1", "")
		require.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, want, w.Header().Get("WWW-Authenticate"), directive)
	}
}

// TestJWTSecretTooShortFailsTheConfig: a jwt block whose algorithms name
// HS512 with a secret shorter than 64 bytes does not load, and says why.
func TestJWTSecretTooShortFailsTheConfig(t *testing.T) {
	port := freePort(t)
	err := loadCaddyfile(caddyfileSite(port, "\tchroma_auth {\n\t\tjwt {\n\t\t\tsecret "+strings.Repeat("s", 40)+"\n\t\t\talgorithms HS512\n\t\t}\n\t}\n\trespond ok"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "algorithm HS512 needs a secret of at least 64")
	_ = caddy.Stop()
}
