package chromaauth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
)

// tokenSite is a site with X-Chroma-Token credentials and, in its body,
// the given log lines; global the global log options.
func tokenSite(port int, global, logBlock, upstream string) string {
	return fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
%s
}

http://127.0.0.1:%d {
%s
	chroma_auth {
		token tok-SECRET-1
		token_header X-Chroma-Token
	}
	reverse_proxy %s
}
`, global, port, logBlock, upstream)
}

// TestProvisionWarnsAboutTokensInLogs: the gateway says at start that
// X-Chroma-Token reaches its logs, and names the filter.
func TestProvisionWarnsAboutTokensInLogs(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "caddy.log")
	port := freePort(t)
	global := fmt.Sprintf("\tlog {\n\t\toutput file %s\n\t}", logFile)
	require.NoError(t, loadCaddyfile(tokenSite(port, global, "\tlog {\n\t\toutput discard\n\t}", "127.0.0.1:9")))
	require.NoError(t, caddy.Stop())
	b, err := os.ReadFile(logFile)
	require.NoError(t, err)
	assert.Contains(t, string(b), "X-Chroma-Token credentials are accepted")
	assert.Contains(t, string(b), "access log")
	assert.Contains(t, string(b), `request>headers>X-Chroma-Token delete`)

	logFile = filepath.Join(dir, "caddy2.log")
	global = fmt.Sprintf("\tlog {\n\t\toutput file %s\n\t}", logFile)
	cfg := strings.Replace(tokenSite(freePort(t), global, "", "127.0.0.1:9"), "token_header X-Chroma-Token", "token_header Authorization", 1)
	require.NoError(t, loadCaddyfile(cfg))
	require.NoError(t, caddy.Stop())
	b, err = os.ReadFile(logFile)
	require.NoError(t, err)
	assert.Contains(t, string(b), "credentials loaded")
	assert.NotContains(t, string(b), "in clear", "Bearer tokens in Authorization: nothing to warn about")
}

// TestRecommendedFilterKeepsTokensOutOfLogs: without the filter, a token
// reaches the access log and, when Chroma is down, the error log (the
// leak the warning is about); with the filter the warning names, in the
// site's log and the default log, it reaches neither.
func TestRecommendedFilterKeepsTokensOutOfLogs(t *testing.T) {
	for _, filtered := range []bool{false, true} {
		t.Run(fmt.Sprint("filtered=", filtered), func(t *testing.T) {
			dir := t.TempDir()
			mainLog, accessLog := filepath.Join(dir, "caddy.log"), filepath.Join(dir, "access.log")
			format := ""
			if filtered {
				format = "\t\tformat filter {\n\t\t\t" + cli.ChromaTokenFilter + "\n\t\t}"
			}
			global := fmt.Sprintf("\tlog default {\n\t\toutput file %s\n%s\n\t}", mainLog, format)
			site := fmt.Sprintf("\tlog {\n\t\toutput file %s\n%s\n\t}", accessLog, format)
			port := freePort(t)
			g := serveConfig(t, port, tokenSite(port, global, site, fmt.Sprintf("127.0.0.1:%d", freePort(t))))
			resp, _ := g.do(t, "GET", "/api/v2/tenants/t", map[string]string{"X-Chroma-Token": "tok-SECRET-1"})
			require.Equal(t, 502, resp.StatusCode, "Chroma is down: Caddy's error log records the request")
			require.NoError(t, caddy.Stop())
			m, err := os.ReadFile(mainLog)
			require.NoError(t, err)
			a, err := os.ReadFile(accessLog)
			require.NoError(t, err)
			require.Contains(t, string(m), `"logger":"http.log.error`)
			require.Contains(t, string(a), `"status":502`)
			if filtered {
				assert.NotContains(t, string(m)+string(a), "SECRET")
			} else {
				assert.Contains(t, string(m), "tok-SECRET-1", "the error log leaks it")
				assert.Contains(t, string(a), "tok-SECRET-1", "the access log leaks it")
			}
		})
	}
}

// TestCheckNamesLogsThatWriteTokens runs `caddy chroma-auth check`'s
// analysis on Caddyfiles, adapted as the command does.
func TestCheckNamesLogsThatWriteTokens(t *testing.T) {
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "pw"})
	filter := "\t\tformat filter {\n\t\t\t" + cli.ChromaTokenFilter + "\n\t\t}\n"
	logFile := filepath.Join(dir, "access.log")
	cases := map[string]struct {
		global, site, auth string
		want               []string // substrings, one per warning
	}{
		"no access log": {auth: "token t\n\t\ttoken_header X-Chroma-Token",
			want: []string{`log "default" writes the error log of this server with the X-Chroma-Token header`}},
		"access log to the default log": {site: "\tlog\n", auth: "token t\n\t\ttoken_header X-Chroma-Token",
			want: []string{`log "default" writes the access log and error log`}},
		"access log of its own, no filter": {site: "\tlog {\n\t\toutput file " + logFile + "\n\t}\n", auth: "token t\n\t\ttoken_header X-Chroma-Token",
			want: []string{`log "default" writes the access log and error log`, `log "log0" writes the access log`}},
		// the default log still takes the access log of hosts the site
		// log does not map, and the error log
		"access log filtered, default not": {site: "\tlog {\n\t\toutput file " + logFile + "\n" + filter + "\t}\n", auth: "token t\n\t\ttoken_header X-Chroma-Token",
			want: []string{`log "default" writes the access log and error log`}},
		"both filtered": {global: "\tlog default {\n" + filter + "\t}\n", site: "\tlog {\n\t\toutput file " + logFile + "\n" + filter + "\t}\n", auth: "token t\n\t\ttoken_header X-Chroma-Token"},
		// any client may send X-Chroma-Token: the access log needs the
		// filter whatever token_header says (the error log only when
		// tokens are read from it)
		"bearer": {site: "\tlog\n", auth: "token t",
			want: []string{`log "default" writes the access log of this server with the X-Chroma-Token header`}},
		"bearer, access log filtered": {global: "\tlog default {\n" + filter + "\t}\n", site: "\tlog\n", auth: "token t"},
		"basic, no access log":        {auth: "basic " + ht},
		"log_credentials": {global: "\tservers {\n\t\tlog_credentials\n\t}\n", site: "\tlog\n", auth: "basic " + ht,
			want: []string{`log "default" writes the access log and error log of this server with the Authorization header`, `log "default" writes the access log of this server with the X-Chroma-Token header`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := fmt.Sprintf("{\n%s}\n\nhttp://127.0.0.1:8080 {\n%s\tchroma_auth {\n\t\t%s\n\t}\n\treverse_proxy 127.0.0.1:8000\n}\n", tc.global, tc.site, tc.auth)
			path := writeTestFile(t, t.TempDir(), "Caddyfile", cfg)
			res, err := cli.Check(cli.CheckOptions{Config: path})
			require.NoError(t, err)
			require.Len(t, res.Handlers, 1)
			require.Empty(t, res.Handlers[0].Errors)
			var logWarnings []string
			for _, w := range res.Handlers[0].Warnings {
				if strings.Contains(w, "in clear") {
					logWarnings = append(logWarnings, w)
				}
			}
			require.Len(t, logWarnings, len(tc.want), "%q", logWarnings)
			for i, want := range tc.want {
				assert.Contains(t, logWarnings[i], want)
				assert.Contains(t, logWarnings[i], "request>headers>")
			}
		})
	}
}

// TestCaddyfileExampleFiltersTokens: the shipped example, switched to
// X-Chroma-Token, has the filter in every log that would write it.
func TestCaddyfileExampleFiltersTokens(t *testing.T) {
	b, err := os.ReadFile("Caddyfile.example")
	require.NoError(t, err)
	text := strings.Replace(string(b), "token_header Authorization", "token_header X-Chroma-Token", 1)
	require.NotEqual(t, string(b), text, "the example names its token header")
	path := writeTestFile(t, t.TempDir(), "Caddyfile", text)
	t.Setenv("CHROMA_TOKEN", "example-token")
	res, err := cli.Check(cli.CheckOptions{Config: path})
	require.NoError(t, err)
	require.Len(t, res.Handlers, 1)
	require.Empty(t, res.Handlers[0].Errors)
	require.Positive(t, res.Handlers[0].Tokens)
	for _, w := range res.Handlers[0].Warnings {
		assert.NotContains(t, w, "in clear")
	}
}
