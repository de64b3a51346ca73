package chromaauth

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddyserver/caddy/v2"
)

// TestRateLimitAnswers429ButKnownCredentialsPass: through Caddy, an
// address past its failures gets 429 for every credential it has not used
// with success before, valid or not, and no bcrypt; the one it used passes.
func TestRateLimitAnswers429ButKnownCredentialsPass(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "good", "bob": "bobpw"})
	g := startGateway(t, fmt.Sprintf("\tchroma_auth {\n\t\tbasic %s\n\t\tfailures_per_minute 5\n\t}\n%s", ht, proxyTo(up)))

	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("alice", "good")})
	require.Equal(t, http.StatusOK, resp.StatusCode, "alice is verified and cached")
	for i := 0; i < 5; i++ {
		resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("alice", "guess"+strconv.Itoa(i))})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "failure %d", i)
	}
	up.reset()
	resp, body := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("alice", "guess-more")})
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, body)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.InDelta(t, 12, retry, 2, "a fifth of a minute until one more try")
	assert.Contains(t, body, "RateLimitError")
	assert.Empty(t, up.requests())

	resp, _ = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("alice", "good")})
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a credential used from this address before the block is never slowed")
	resp, _ = g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("bob", "bobpw")})
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "one never used from it waits, valid or not")
}

func TestLiveReload(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "alicepw", "bob": "bobpw"})
	tokens := writeTestFile(t, dir, "tokens.txt", "tok-old\n")
	logFile := filepath.Join(dir, "caddy.log")
	port := freePort(t)
	cfg := strings.Replace(caddyfileSite(port, fmt.Sprintf("\tchroma_auth {\n\t\tbasic %s\n\t\ttoken_file %s\n\t\treload_interval 50ms\n\t\tfailures_per_minute off\n\t}\n%s", ht, tokens, proxyTo(up))),
		"level ERROR", "output file "+logFile+"\n\t\tlevel ERROR", 1)
	g := serveConfig(t, port, cfg)
	status := func(hdr map[string]string) int {
		resp, _ := g.do(t, "GET", "/api/v2/tenants/t", hdr)
		return resp.StatusCode
	}
	alice := map[string]string{"Authorization": basicHeader("alice", "alicepw")}
	bob := map[string]string{"Authorization": basicHeader("bob", "bobpw")}
	carol := map[string]string{"Authorization": basicHeader("carol", "carolpw")}
	require.Equal(t, http.StatusOK, status(alice))
	require.Equal(t, http.StatusOK, status(bob))
	require.Equal(t, http.StatusUnauthorized, status(carol))
	require.Equal(t, http.StatusOK, status(bearer("tok-old")))

	// Replace the file the way htpasswd and editors do: write, rename.
	replace := func(path, content string) {
		tmp := path + ".tmp"
		require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
		require.NoError(t, os.Rename(tmp, path))
	}
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		require.NoError(t, err)
		return string(h)
	}
	replace(ht, "alice:"+hash("alicepw")+"\ncarol:"+hash("carolpw")+"\n")
	replace(tokens, "tok-new\n")
	assert.Eventually(t, func() bool { return status(carol) == http.StatusOK }, 10*time.Second, 20*time.Millisecond, "new user works")
	assert.Equal(t, http.StatusUnauthorized, status(bob), "removed user is refused at once, though cached")
	assert.Equal(t, http.StatusOK, status(alice))
	assert.Equal(t, http.StatusOK, status(bearer("tok-new")))
	assert.Equal(t, http.StatusUnauthorized, status(bearer("tok-old")))

	// A broken file keeps the last good credentials.
	replace(ht, "alice:"+hash("alicepw")+"\nmallory:$apr1$xyz$notbcrypt\n")
	// Wait for the reload to be tried and refused: its log line names the
	// file, the line and the user.
	waitFor(t, func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "reload failed; keeping the last good credentials and roles") &&
			strings.Contains(string(b), ht+":2") && strings.Contains(string(b), "mallory")
	}, "the broken file was read and refused")
	assert.Equal(t, http.StatusOK, status(carol), "last good set stays in force")
	assert.Equal(t, http.StatusOK, status(alice))
	assert.Equal(t, http.StatusUnauthorized, status(map[string]string{"Authorization": basicHeader("mallory", "x")}))
	// and a fixed file is picked up again
	replace(ht, "dave:"+hash("davepw")+"\n")
	assert.Eventually(t, func() bool {
		return status(map[string]string{"Authorization": basicHeader("dave", "davepw")}) == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, http.StatusUnauthorized, status(carol))
}

func TestCaddyReloadSwapsConfig(t *testing.T) {
	up := newUpstream(t)
	port := freePort(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "alicepw"})
	g := serveConfig(t, port, caddyfileSite(port, fmt.Sprintf("\tchroma_auth basic %s\n%s", ht, proxyTo(up))))
	resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"Authorization": basicHeader("alice", "alicepw")})
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// what `caddy reload` does: load a new config into the running process
	require.NoError(t, loadCaddyfile(caddyfileSite(port, "\tchroma_auth token tok-after-reload\n"+proxyTo(up))))
	// The old server drains while the new one takes over the listener: a
	// connection may still reach the old one (or close under the client)
	// for a moment after Load returns.
	statusOf := func(hdr map[string]string) int {
		req, _ := http.NewRequest("GET", g.URL+"/api/v2/tenants/t", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		req.Close = true
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		r.Body.Close()
		return r.StatusCode
	}
	assert.Eventually(t, func() bool {
		return statusOf(map[string]string{"Authorization": basicHeader("alice", "alicepw")}) == http.StatusUnauthorized &&
			statusOf(bearer("tok-after-reload")) == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond, "the reloaded config serves")
	http.DefaultClient.CloseIdleConnections()

	// a broken config is refused and the running one stays
	err := loadCaddyfile(caddyfileSite(port, "\tchroma_auth basic "+filepath.Join(dir, "missing")+"\n"+proxyTo(up)))
	require.Error(t, err)
	resp, _ = g.do(t, "GET", "/api/v2/tenants/t", bearer("tok-after-reload"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestNothingLeaksIntoLogs runs with debug logs and an access log, sends
// good and bad credentials of every kind, and looks for them in the output.
func TestNothingLeaksIntoLogs(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "alice-SECRET-pw"})
	htBytes, err := os.ReadFile(ht)
	require.NoError(t, err)
	hash := strings.TrimSpace(strings.SplitN(string(htBytes), ":", 2)[1])
	logFile := filepath.Join(dir, "caddy.log")
	accessFile := filepath.Join(dir, "access.log")
	port := freePort(t)
	cfg := fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
	log {
		output file %s
		level DEBUG
	}
}

http://127.0.0.1:%d {
	# Caddy's access log copies the request before any handler runs and
	# redacts only Authorization and cookies: X-Chroma-Token needs this
	# filter, the one the README documents.
	log {
		output file %s
		format filter {
			request>headers>X-Chroma-Token replace REDACTED
		}
	}
	chroma_auth {
		basic %s
		token tok-SECRET-good
		token_header X-Chroma-Token
	}
	reverse_proxy %s
}
`, logFile, port, accessFile, ht, strings.TrimPrefix(up.URL, "http://"))
	g := serveConfig(t, port, cfg)

	// Each answer is the one its credential earns: a log that holds no
	// secret because the requests never got as far as logging proves
	// nothing.
	for _, c := range []struct {
		hdr  map[string]string
		want int
	}{
		{map[string]string{"Authorization": basicHeader("alice", "alice-SECRET-pw")}, http.StatusOK},
		{map[string]string{"Authorization": basicHeader("alice", "wrong-SECRET-pw")}, http.StatusUnauthorized},
		{map[string]string{"X-Chroma-Token": "tok-SECRET-good"}, http.StatusOK},
		{map[string]string{"X-Chroma-Token": "tok-SECRET-bad"}, http.StatusUnauthorized},
		// A Bearer is no credential of this gateway (token_header is
		// X-Chroma-Token): ignored, and removed before Chroma (the echo
		// below holds no SECRET).
		{map[string]string{"X-Chroma-Token": "tok-SECRET-good", "Authorization": "Bearer tok-SECRET-bearer"}, http.StatusOK},
	} {
		resp, body := g.do(t, "GET", "/api/v2/tenants/t", c.hdr)
		assert.Equal(t, c.want, resp.StatusCode, "%v: %s", c.hdr, body)
		assert.NotContains(t, body, "SECRET")
	}
	resp, _ := g.do(t, "GET", "/api/v2/heartbeat", map[string]string{"X-Chroma-Token": "tok-SECRET-public"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, caddy.Stop()) // flush and close the logs

	logs, err := os.ReadFile(logFile)
	require.NoError(t, err)
	access, err := os.ReadFile(accessFile)
	require.NoError(t, err)
	all := string(logs) + string(access)
	assert.NotContains(t, all, "SECRET")
	assert.NotContains(t, all, b64("alice:alice-SECRET-pw"))
	assert.NotContains(t, all, hash)
	assert.Contains(t, string(logs), `"reason":"invalid_credentials"`, "denials are logged at debug level")
	assert.Contains(t, string(logs), `"user":"alice"`)
	assert.Contains(t, string(logs), `"provider":"basic"`)
	assert.Contains(t, string(logs), `"provider":"token"`)
	assert.Contains(t, string(logs), `"remote_ip":"127.0.0.1"`)
	assert.Contains(t, string(access), `"user_id":"alice"`, "the access log names the user")
	assert.Contains(t, string(access), `"X-Chroma-Token":"REDACTED"`)
}
