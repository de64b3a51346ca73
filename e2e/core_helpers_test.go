package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recorded is one request an upstream recorder received.
type recorded struct {
	method string
	path   string // as escaped on the wire
	header http.Header
	body   []byte
}

// recorder is an upstream in the test process: it records every request
// it receives, exactly as it arrived, then forwards it to Chroma (or, with
// no target, answers 200 with the body it got). Put between a gateway and
// Chroma, it shows which requests the gateway forwarded or made itself.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func startRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	rec := &recorder{}
	var proxy *httputil.ReverseProxy
	if target != "" {
		u, err := url.Parse(target)
		require.NoError(t, err)
		proxy = httputil.NewSingleHostReverseProxy(u)
	}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{method: r.Method, path: r.URL.EscapedPath(), header: r.Header.Clone(), body: body})
		rec.mu.Unlock()
		if proxy == nil {
			w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
			_, _ = w.Write(body)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// addr is the recorder's host:port, for reverse_proxy.
func (rec *recorder) addr() string { return strings.TrimPrefix(rec.srv.URL, "http://") }

// matching returns the recorded requests whose method is method and whose
// path ends with suffix.
func (rec *recorder) matching(method, suffix string) []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []recorded
	for _, r := range rec.reqs {
		if r.method == method && strings.HasSuffix(r.path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// paths lists every recorded request as "METHOD path", for messages.
func (rec *recorder) paths() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]string, len(rec.reqs))
	for i, r := range rec.reqs {
		out[i] = r.method + " " + r.path
	}
	return out
}

// startGatewayTo starts a gateway whose reverse_proxy goes to upstream
// (host:port) with proxyOpts inside its block (such as header_up lines).
func startGatewayTo(t *testing.T, upstream, proxyOpts, directive string) *gateway {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	storage := filepath.Join(dir, "caddy-storage")
	config := filepath.Join(dir, "Caddyfile")
	target := upstream
	if proxyOpts != "" {
		target += " {\n\t\t" + proxyOpts + "\n\t}"
	}
	text := fmt.Sprintf(gatewayCaddyfile, storage, "", port, directive, target)
	require.NoError(t, os.WriteFile(config, []byte(text), 0o600))
	return runGateway(t, gatewayRun{dir: dir, config: config, port: port, storage: storage, cwd: dir})
}

// tokenUser is one entry of a users YAML file written by writeUsers.
type tokenUser struct {
	id, role, tenant, token string
	databases               []string
	collections             map[string]string // nil: no collections key
}

// writeUsers writes a Chroma users file (with collection grants) and
// returns its path.
func writeUsers(t *testing.T, users ...tokenUser) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("users:\n")
	for _, u := range users {
		fmt.Fprintf(&b, "  - id: %q\n    tokens: [%q]\n", u.id, u.token)
		if u.role != "" {
			fmt.Fprintf(&b, "    role: %q\n", u.role)
		}
		if u.tenant != "" {
			fmt.Fprintf(&b, "    tenant: %q\n", u.tenant)
		}
		if len(u.databases) > 0 {
			quoted := make([]string, len(u.databases))
			for i, d := range u.databases {
				quoted[i] = strconv.Quote(d)
			}
			fmt.Fprintf(&b, "    databases: [%s]\n", strings.Join(quoted, ", "))
		}
		if u.collections != nil {
			b.WriteString("    collections: {")
			first := true
			for name, level := range u.collections {
				if !first {
					b.WriteString(", ")
				}
				first = false
				fmt.Fprintf(&b, "%q: %s", name, level)
			}
			b.WriteString("}\n")
		}
	}
	path := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// answer is one response of the gateway, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// upstream reports whether the answer came through reverse_proxy (Caddy
// adds Via to what it proxies), not from the gateway itself.
func (a answer) upstream() bool { return strings.Contains(a.header.Get("Via"), "Caddy") }

func (a answer) String() string { return strconv.Itoa(a.status) + " " + short(a.body) }

// gwClient speaks HTTPS to one gateway, trusting its CA; safe for
// concurrent use (try never fails the test itself).
type gwClient struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newGWClient(t *testing.T, g *gateway) *gwClient {
	t.Helper()
	c, err := trustingHTTPClient(g.caRoot)
	require.NoError(t, err)
	c.Timeout = 30 * time.Second
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return &gwClient{t: t, c: c, base: g.url}
}

// try sends one request with a Bearer token ("" for none) and extra
// header pairs.
func (c *gwClient) try(method, path, token, body string, headers ...string) (answer, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

func (c *gwClient) do(method, path, token, body string, headers ...string) answer {
	c.t.Helper()
	a, err := c.try(method, path, token, body, headers...)
	require.NoError(c.t, err, "%s %s", method, path)
	return a
}

// chromaInstance is a Chroma server of a test's own (not the suite's
// shared one), run from a config file so that it can be stopped and
// started again on the same port and data folder.
type chromaInstance struct {
	config string
	addr   string
	url    string
	proc   *process
	dir    string
	starts int
}

// startCoreChroma runs a Chroma of the test's own with CORS allowed for
// corsOrigin ("" for none).
func startCoreChroma(t *testing.T, corsOrigin string) *chromaInstance {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	cfg := fmt.Sprintf("port: %d\nlisten_address: \"127.0.0.1\"\npersist_path: %q\n", port, filepath.Join(dir, "data"))
	if corsOrigin != "" {
		cfg += fmt.Sprintf("cors_allow_origins: [%q]\n", corsOrigin)
	}
	c := &chromaInstance{config: filepath.Join(dir, "chroma.yaml"), dir: dir, addr: "127.0.0.1:" + strconv.Itoa(port)}
	c.url = "http://" + c.addr
	require.NoError(t, os.WriteFile(c.config, []byte(cfg), 0o600))
	c.start(t)
	t.Cleanup(func() {
		if c.proc != nil {
			c.proc.stop()
		}
	})
	return c
}

// start runs the server (again) and waits for its heartbeat.
func (c *chromaInstance) start(t *testing.T) {
	t.Helper()
	c.starts++
	cli := filepath.Join(suite.e2eDir, "node_modules", ".bin", "chroma")
	cmd := exec.Command(cli, "run", c.config)
	cmd.Dir = c.dir
	proc, err := startProcess("own chroma", cmd, filepath.Join(c.dir, fmt.Sprintf("chroma-%d.log", c.starts)))
	require.NoError(t, err)
	c.proc = proc
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, err = waitFor(ctx, plainHTTPClient(), c.url+"/api/v2/heartbeat", proc)
	require.NoError(t, err)
}

// stop ends the server and waits until its port refuses connections.
func (c *chromaInstance) stop(t *testing.T) {
	t.Helper()
	c.proc.stop()
	c.proc = nil
	_, err := plainHTTPClient().Get(c.url + "/api/v2/heartbeat")
	require.Error(t, err, "Chroma still answers after it was stopped")
}

// directAt is the oracle for tenant/database of the Chroma at chromaURL
// (http://host:port), with the names escaped once.
func directAt(t *testing.T, chromaURL, tenant, database string) *direct {
	return &direct{t: t, client: plainHTTPClient(),
		base: chromaURL + "/api/v2/tenants/" + url.PathEscape(tenant) + "/databases/" + url.PathEscape(database)}
}

// createTenantDBsAt makes a tenant and its databases in the Chroma at
// base (http://host:port).
func createTenantDBsAt(t *testing.T, base, tenant string, databases ...string) {
	t.Helper()
	d := &direct{t: t, client: plainHTTPClient(), base: base + "/api/v2"}
	require.Equal(t, http.StatusOK, d.do(http.MethodPost, "/tenants", map[string]any{"name": tenant}, nil), "create tenant %s", tenant)
	for _, db := range databases {
		require.Equal(t, http.StatusOK, d.do(http.MethodPost, "/tenants/"+url.PathEscape(tenant)+"/databases", map[string]any{"name": db}, nil),
			"create database %s/%s", tenant, db)
	}
}

// newUUID is a random version-4 UUID, for collection ids that do not exist.
func newUUID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:]
}

// collPath is the v2 path of a collection (id or name) in tenant/database,
// escaped once, plus rest.
func collPath(tenant, database, collection, rest string) string {
	p := "/api/v2/tenants/" + url.PathEscape(tenant) + "/databases/" + url.PathEscape(database) + "/collections"
	if collection != "" {
		p += "/" + url.PathEscape(collection)
	}
	return p + rest
}
