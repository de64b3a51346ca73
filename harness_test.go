package chromaauth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

// upstream is a stand-in for Chroma that records what reaches it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
	// collections answers GET /api/v2/tenants/{t}/databases/{d}/collections
	// like Chroma: key "t/d", value the collection ids there.
	collections map[string][]string
	// byID makes it answer GET .../collections/by-id/{id} as Chroma
	// 1.5.7+ does; without it, a bare 404 as older releases.
	byID bool
	// names are the collections' names by id (default "c-" and the id's
	// first four characters); listDelay slows every listing down.
	names     map[string]string
	listDelay time.Duration
	// byIDGate, when set, holds every by-id answer until it is closed.
	byIDGate chan struct{}
}

func (u *upstream) nameOf(id string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if n, ok := u.names[id]; ok {
		return n
	}
	return "c-" + id[:4]
}

type seenRequest struct {
	Method, URI   string
	Authorization string
	ChromaToken   string
	User, Tenant  string
	Role, Action  string
	Body          string
	At            time.Time `json:"-"` // when it arrived
}

func newUpstream(t testing.TB) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seenRequest{
			Method: r.Method, URI: r.RequestURI,
			Authorization: r.Header.Get("Authorization"), ChromaToken: r.Header.Get("X-Chroma-Token"),
			User: r.Header.Get("X-Chroma-User"), Tenant: r.Header.Get("X-Chroma-Tenant"),
			Role: r.Header.Get("X-Chroma-Role"), Action: r.Header.Get("X-Chroma-Action"),
			Body: string(body), At: time.Now(),
		}
		u.mu.Lock()
		u.seen = append(u.seen, s)
		colls := u.collections
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		parts := strings.Split(r.URL.Path, "/")
		if r.Method == "POST" && len(parts) == 8 && parts[3] == "tenants" && parts[5] == "databases" && parts[7] == "collections" && colls != nil {
			// create: a new collection with a fresh id, as Chroma answers
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", len(u.seen), time.Now().UnixNano()&0xffffffffffff)
			u.mu.Lock()
			u.collections[parts[4]+"/"+parts[6]] = append(u.collections[parts[4]+"/"+parts[6]], id)
			u.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "name": "new", "tenant": parts[4], "database": parts[6]})
			return
		}
		if r.Method == "GET" && len(parts) == 10 && parts[7] == "collections" && parts[8] == "by-id" && colls != nil {
			// Chroma 1.5.7+ answers a collection by id; older ones have no
			// such route: axum's bare 404.
			if u.byIDGate != nil {
				<-u.byIDGate
			}
			if !u.byID {
				w.Header().Del("Content-Type")
				w.WriteHeader(http.StatusNotFound)
				return
			}
			for key, ids := range colls {
				for _, id := range ids {
					if id == parts[9] {
						t, d, _ := strings.Cut(key, "/")
						_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "name": u.nameOf(id), "tenant": t, "database": d})
						return
					}
				}
			}
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"NotFoundError","message":"Collection not found"}`))
			return
		}
		if r.Method == "GET" && len(parts) == 8 && parts[3] == "tenants" && parts[5] == "databases" && parts[7] == "collections" && colls != nil {
			time.Sleep(u.listDelay)
			var list []map[string]string
			for _, id := range colls[parts[4]+"/"+parts[6]] {
				list = append(list, map[string]string{"id": id, "name": u.nameOf(id), "tenant": parts[4], "database": parts[6]})
			}
			if q := r.URL.Query(); q.Get("offset") != "" {
				off, _ := strconv.Atoi(q.Get("offset"))
				lim, _ := strconv.Atoi(q.Get("limit"))
				list = list[min(off, len(list)):]
				if lim > 0 && lim < len(list) {
					list = list[:lim]
				}
			}
			if list == nil {
				list = []map[string]string{}
			}
			_ = json.NewEncoder(w).Encode(list)
			return
		}
		_ = json.NewEncoder(w).Encode(s)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) requests() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenRequest(nil), u.seen...)
}

// spacedListings asserts that the listings of tenant/database the
// upstream saw came at least minGap apart: the gateway lists a database at
// most once per relist interval (2 s), whatever the number of requests and
// however long the test ran. (minGap is below 2 s by the time a request
// may spend between the gateway and here.) It returns how many there were.
func (u *upstream) spacedListings(t *testing.T, tenant, database string, minGap time.Duration) int {
	t.Helper()
	prefix := "/api/v2/tenants/" + tenant + "/databases/" + database + "/collections?"
	var last time.Time
	n := 0
	for _, s := range u.requests() {
		if !strings.HasPrefix(s.URI, prefix) {
			continue
		}
		if n > 0 {
			assert.GreaterOrEqual(t, s.At.Sub(last), minGap, "listing %d came %v after the one before", n, s.At.Sub(last))
		}
		last = s.At
		n++
	}
	return n
}

func (u *upstream) reset() {
	u.mu.Lock()
	u.seen = nil
	u.mu.Unlock()
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// gateway is a Caddy instance run the way users run it: a Caddyfile,
// adapted by Caddy's own adapter, loaded and provisioned, serving on a real
// loopback listener.
type gateway struct {
	URL  string
	Addr string
}

// caddyfileSite wraps a site body in the global options the tests use.
func caddyfileSite(port int, body string) string {
	return fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
	log {
		level ERROR
	}
}

http://127.0.0.1:%d {
%s
}
`, port, body)
}

// adapt turns a Caddyfile into Caddy's JSON config.
func adapt(cfgText string) ([]byte, error) {
	adapter := caddyconfig.GetAdapter("caddyfile")
	cfg, _, err := adapter.Adapt([]byte(cfgText), map[string]any{"filename": "Caddyfile"})
	return cfg, err
}

// loadCaddyfile adapts and loads a config; it returns the load error.
func loadCaddyfile(cfgText string) error {
	cfg, err := adapt(cfgText)
	if err != nil {
		return err
	}
	return caddy.Load(cfg, true)
}

// startGateway runs a site whose body is given, and stops it at the end.
func startGateway(t testing.TB, body string) *gateway {
	t.Helper()
	port := freePort(t)
	return serveConfig(t, port, caddyfileSite(port, body))
}

// serveConfig loads a whole Caddyfile whose site listens on port, stops it
// at the end of the test, and waits until it listens.
func serveConfig(t testing.TB, port int, cfg string) *gateway {
	t.Helper()
	require.NoError(t, loadCaddyfile(cfg))
	t.Cleanup(func() { _ = caddy.Stop() })
	g := &gateway{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	waitListening(t, g.Addr)
	return g
}

func waitListening(t testing.TB, addr string) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// do sends a request with the given headers.
func (g *gateway) do(t *testing.T, method, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	return g.doBody(t, method, path, "", hdr)
}

// doBody sends a request with a body ("" for none).
func (g *gateway) doBody(t *testing.T, method, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.URL+path, rd)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// raw sends a request line and headers exactly as written, so that no
// client library cleans the path first.
func (g *gateway) raw(t *testing.T, method, target string, headers ...string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", g.Addr)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := method + " " + target + " HTTP/1.1\r\nHost: " + g.Addr + "\r\nConnection: close\r\n"
	for _, h := range headers {
		msg += h + "\r\n"
	}
	_, err = io.WriteString(c, msg+"\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// writeHtpasswd writes an htpasswd file of user→password at bcrypt's
// cheapest cost.
func writeHtpasswd(t testing.TB, dir string, users map[string]string) string {
	t.Helper()
	var b strings.Builder
	for u, p := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s:%s\n", u, h)
	}
	path := filepath.Join(dir, "server.htpasswd")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

func writeTestFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func basicHeader(user, pass string) string {
	return "Basic " + b64(user+":"+pass)
}
