package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// prodCaddyfile is the config of the production tests' gateways. Unlike
// gatewayCaddyfile it may turn the admin endpoint on (on loopback), as
// `caddy reload`, /metrics and /debug/pprof need it, and it takes the
// whole reverse_proxy line, so a test can point it at two upstreams or a
// test server. The upstream connections idle out after 2 s (keepalive), so
// the goroutines that hold them end soon after a load: the leak checks
// compare goroutine counts at rest.
const prodCaddyfile = `{
	admin %[1]s
	persist_config off
	skip_install_trust
	auto_https disable_redirects
	storage file_system %[2]q
	servers {
		protocols h1 h2
	}
}

localhost:%[3]d {
	bind 127.0.0.1
	tls internal
%[4]s
	reverse_proxy %[5]s {
		transport http {
			keepalive 2s
%[6]s
		}
%[7]s
	}
}
`

// prodSite is what one production-test gateway serves.
type prodSite struct {
	admin     bool   // admin endpoint on 127.0.0.1:<free port>
	storage   string // Caddy's storage folder; "" for one of its own
	lines     string // site lines before reverse_proxy (chroma_auth …)
	upstreams string // the reverse_proxy upstreams
	transport string // extra lines of its http transport
	proxy     string // extra lines of the reverse_proxy block
}

// prodGateway is a gateway process with the config it was started with.
type prodGateway struct {
	*gateway
	site   prodSite
	dir    string
	config string // Caddyfile path
	admin  string // host:port of the admin endpoint, "" when off
}

func startProdGateway(t *testing.T, site prodSite) *prodGateway {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	g := &prodGateway{site: site, dir: dir, config: filepath.Join(dir, "Caddyfile")}
	if site.storage == "" {
		g.site.storage = filepath.Join(dir, "caddy-storage")
	}
	if site.admin {
		ap, err := freePort()
		require.NoError(t, err)
		g.admin = "127.0.0.1:" + strconv.Itoa(ap)
	}
	require.NoError(t, os.WriteFile(g.config, g.caddyfile(port, g.site), 0o600))
	g.gateway = runGateway(t, gatewayRun{dir: dir, config: g.config, port: port, storage: g.site.storage, cwd: dir})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway on port %d, its error lines:\n%s", port, g.errorLines())
		}
	})
	return g
}

// errorLines are the gateway log's lines at ERROR level or worse (the
// whole log may be longer than what a failure prints of it).
func (g *prodGateway) errorLines() string {
	b, err := os.ReadFile(g.proc.logPath)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"level":"error"`) || strings.Contains(line, `"level":"warn"`) {
			out = append(out, line)
		}
	}
	if len(out) > 40 {
		out = out[len(out)-40:]
	}
	return strings.Join(out, "\n")
}

func (g *prodGateway) caddyfile(port int, s prodSite) []byte {
	admin := "off"
	if g.admin != "" {
		admin = g.admin
	}
	return fmt.Appendf(nil, prodCaddyfile, admin, s.storage, port, s.lines, s.upstreams, s.transport, s.proxy)
}

// reload writes the site with new lines to the Caddyfile and runs the
// binary's `caddy reload` against the admin endpoint, as users do. It
// returns once Caddy has loaded the new config.
func (g *prodGateway) reload(t *testing.T, lines string) {
	t.Helper()
	g.site.lines = lines
	require.NoError(t, os.WriteFile(g.config, g.caddyfile(g.port, g.site), 0o600))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.gatewayBin, "reload", "--config", g.config,
		"--adapter", "caddyfile", "--address", g.admin)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(g.dir, "xdg-data"),
		"XDG_CONFIG_HOME="+filepath.Join(g.dir, "xdg-config"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "caddy reload: %s", out)
}

// adminGet fetches a path of the admin endpoint.
func (g *prodGateway) adminGet(t *testing.T, path string) []byte {
	t.Helper()
	body, err := get(t.Context(), plainHTTPClient(), "http://"+g.admin+path)
	require.NoError(t, err)
	return body
}

// goroutines is the process's goroutine count, from the admin endpoint's
// /debug/pprof/goroutine?debug=1 ("goroutine profile: total N").
func (g *prodGateway) goroutines(t *testing.T) int {
	t.Helper()
	body := g.adminGet(t, "/debug/pprof/goroutine?debug=1")
	line, _, _ := bytes.Cut(body, []byte("\n"))
	n, err := strconv.Atoi(strings.TrimPrefix(string(line), "goroutine profile: total "))
	require.NoError(t, err, "goroutine profile header %q", line)
	return n
}

// heapLive is the process's live heap: HeapAlloc right after the
// garbage collection the profile asks for (gc=1). HeapInuse would also
// count the spans that fragmentation leaves partly used, which vary by
// megabytes from run to run with the same live objects.
func (g *prodGateway) heapLive(t *testing.T) int64 {
	t.Helper()
	body := g.adminGet(t, "/debug/pprof/heap?gc=1&debug=1")
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no HeapAlloc in the heap profile")
	return 0
}

// settleHeap polls the live heap until it is at most want, or the
// deadline passes; it returns the last value seen. Memory a reload frees
// late (a connection's buffers, a cache entry's timer) is not a leak; a
// config kept alive is never freed.
func (g *prodGateway) settleHeap(t *testing.T, want int64, deadline time.Duration) int64 {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		n := g.heapLive(t)
		if n <= want || time.Now().After(end) {
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// settle polls the goroutine count until it is at most want, or the
// deadline passes; it returns the last count seen.
func (g *prodGateway) settle(t *testing.T, want int, deadline time.Duration) int {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		n := g.goroutines(t)
		if n <= want || time.Now().After(end) {
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// probe is one request with a credential over a client, its status and
// body; transport errors fail the test.
func probe(t *testing.T, client *http.Client, method, url string, cred credential, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	require.NoError(t, err)
	if name, value := cred.header(); name != "" {
		req.Header.Set(name, value)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	require.NoError(t, err, "%s %s", method, url)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// freshClient trusts the gateway's CA and opens a new connection for every
// request, so it always talks to the config in force, never to an old
// config's connection that is still draining.
func freshClient(t *testing.T, caRoot string) *http.Client {
	t.Helper()
	c, err := trustingHTTPClient(caRoot)
	require.NoError(t, err)
	c.Transport.(*http.Transport).DisableKeepAlives = true
	return c
}
