package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared/redistest"
)

// The messages the gateway logs when its shared state changes mode.
const (
	logSharedUp   = "shared state answers; counting across gateways"
	logSharedDown = "shared state does not answer; counting in this gateway's memory until it does"
)

// sharedUsers are token users with their own limits, in Chroma's users
// YAML: rater a burst of 6 and one a minute after it, sizer only sizes,
// loader a rate no test reaches.
const sharedUsers = `users:
  - id: rater
    tokens: [tok-rater-%[1]s]
    limits: { rate: 1/m, burst: 6 }
  - id: sizer
    tokens: [tok-sizer-%[1]s]
    limits: { max_batch: 2, max_results: 5 }
  - id: loader
    tokens: [tok-loader-%[1]s]
    limits: { rate: 100000/s }
`

// sharedPair is two gateway processes naming one Redis that speaks only
// TLS, through {env.CHROMA_AUTH_TEST_REDIS} (a rediss:// URL with the
// password); they trust its CA as an operator would install it
// (SSL_CERT_FILE, Go's system roots).
type sharedPair struct {
	g       [2]*prodGateway
	redis   *redistest.Server
	creds   prodCreds
	suffix  string
	clients [2]*http.Client
}

func startSharedPair(t *testing.T) *sharedPair {
	t.Helper()
	p := &sharedPair{redis: redistest.StartTLS(t, "pw-"+randomHex(8), ""), creds: newProdCreds(t, 0), suffix: randomHex(6)}
	users := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(users, fmt.Appendf(nil, sharedUsers, p.suffix), 0o600))
	storage := filepath.Join(t.TempDir(), "caddy-storage")
	for i := range p.g {
		lines := fmt.Sprintf(`	header X-Gateway g%d
	chroma_auth {
		basic %s
		token_file %s
		failures_per_minute 6
		shared_state {env.CHROMA_AUTH_TEST_REDIS}
	}`, i+1, p.creds.htpasswd, users)
		p.g[i] = startEnvGateway(t, prodSite{storage: storage, lines: lines, upstreams: suite.chroma.addr},
			"CHROMA_AUTH_TEST_REDIS="+p.redis.URL(), "SSL_CERT_FILE="+p.redis.CAFile)
		p.clients[i] = freshClient(t, p.g[i].caRoot)
	}
	for _, g := range p.g {
		waitLog(t, g, logSharedUp, 1)
	}
	return p
}

// startEnvGateway is startProdGateway with extra environment variables.
func startEnvGateway(t *testing.T, site prodSite, env ...string) *prodGateway {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	g := &prodGateway{site: site, dir: dir, config: filepath.Join(dir, "Caddyfile")}
	require.NoError(t, os.WriteFile(g.config, g.caddyfile(port, g.site), 0o600))
	g.gateway = runGateway(t, gatewayRun{dir: dir, config: g.config, port: port, storage: site.storage, cwd: dir, env: env})
	return g
}

// logCount is how many lines of g's log carry msg.
func logCount(g *prodGateway, msg string) int {
	b, _ := os.ReadFile(g.proc.logPath)
	return strings.Count(string(b), `"msg":"`+msg+`"`)
}

func waitLog(t *testing.T, g *prodGateway, msg string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return logCount(g, msg) >= n }, 20*time.Second, 10*time.Millisecond,
		"gateway on port %d never logged %q %d times", g.port, msg, n)
}

func (p *sharedPair) noPasswordInLogs(t *testing.T) {
	t.Helper()
	for _, g := range p.g {
		b, err := os.ReadFile(g.proc.logPath)
		require.NoError(t, err)
		assert.NotContains(t, string(b), p.redis.Password, "the Redis password is in a log")
		assert.Contains(t, string(b), "xxxxx", "the store is logged, redacted")
	}
}

// TestSharedStateTwoGateways: two gateway processes naming one Redis (its
// password from the environment) in front of the real Chroma:
//   - an identity's burst of 6 is one budget: 30 requests at once, half
//     through each, let exactly 6 through;
//   - a batch over max_batch and an n_results over max_results are
//     refused with Chroma's QuotaError and Chroma receives nothing;
//   - an address's 6 failures a minute are one budget: 6 wrong passwords
//     spread over both block a right password never used from there, on
//     both;
//   - no log holds the Redis password.
func TestSharedStateTwoGateways(t *testing.T) {
	p := startSharedPair(t)
	direct := chromaDirect(t)
	name := uniqueName("shared")
	id := direct.createCollection(name, nil)
	t.Cleanup(func() { direct.deleteCollection(name) })
	// Chroma 1.0 reads a collection by name, writes and queries by id.
	base := "/api/v2/tenants/default_tenant/databases/default_database/collections/"
	path, coll := base+name, p.g[0].url+base+id

	t.Run("one rate across both gateways", func(t *testing.T) {
		rater := credential{kind: credBearer, token: "tok-rater-" + p.suffix}
		var passed, limited atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				g := p.g[i%2]
				status, hdr, body := probe(t, p.clients[i%2], http.MethodGet, g.url+path, rater, "")
				switch status {
				case http.StatusOK:
					assert.Contains(t, string(body), id)
					passed.Add(1)
				case http.StatusTooManyRequests:
					assert.NotEmpty(t, hdr.Get("Retry-After"))
					assert.Contains(t, string(body), `"error":"RateLimitError"`)
					limited.Add(1)
				default:
					t.Errorf("%d %s", status, body)
				}
			}()
		}
		close(start)
		wg.Wait()
		assert.EqualValues(t, 6, passed.Load(), "one burst of 6 for both gateways")
		assert.EqualValues(t, 24, limited.Load())
	})

	t.Run("sizes refused, nothing reaches Chroma", func(t *testing.T) {
		sizer := credential{kind: credBearer, token: "tok-sizer-" + p.suffix}
		add := `{"ids":["a","b","c"],"embeddings":[[1,2],[3,4],[5,6]],"documents":["x","y","z"]}`
		status, _, body := probe(t, p.clients[0], http.MethodPost, coll+"/add", sizer, add)
		assert.Equal(t, http.StatusBadRequest, status, "%s", body)
		assert.Contains(t, string(body), `"error":"QuotaError"`)
		assert.Contains(t, string(body), "max_batch")
		query := `{"query_embeddings":[[1,2]],"n_results":6}`
		status, _, body = probe(t, p.clients[1], http.MethodPost, p.g[1].url+base+id+"/query", sizer, query)
		assert.Equal(t, http.StatusBadRequest, status, "%s", body)
		assert.Contains(t, string(body), "max_results")
		assert.Empty(t, direct.ids(id), "the refused add never reached Chroma")

		ok := `{"ids":["a","b"],"embeddings":[[1,2],[3,4]],"documents":["x","y"]}`
		status, _, body = probe(t, p.clients[0], http.MethodPost, coll+"/add", sizer, ok)
		require.Contains(t, []int{http.StatusOK, http.StatusCreated}, status, "%s", body)
		assert.ElementsMatch(t, []string{"a", "b"}, direct.ids(id))
		status, _, body = probe(t, p.clients[1], http.MethodPost, p.g[1].url+base+id+"/query", sizer, `{"query_embeddings":[[1,2]],"n_results":5}`)
		assert.Equal(t, http.StatusOK, status, "%s", body)
		assert.Contains(t, string(body), `"a"`)
	})
	t.Run("one failure budget across both gateways", func(t *testing.T) {
		wrong := p.creds.basic()
		wrong.password = "wrong-" + randomHex(4)
		for i := range 6 {
			status, _, body := probe(t, p.clients[i%2], http.MethodGet, p.g[i%2].url+path, wrong, "")
			require.Equal(t, http.StatusUnauthorized, status, "try %d: %s", i, body)
		}
		for i, g := range p.g {
			status, hdr, body := probe(t, p.clients[i], http.MethodGet, g.url+path, p.creds.basic(), "")
			assert.Equal(t, http.StatusTooManyRequests, status, "g%d: %s", i+1, body)
			assert.NotEmpty(t, hdr.Get("Retry-After"))
		}
	})
	p.noPasswordInLogs(t)
}

// TestSharedStateRedisRestartUnderLoad: four clients read a collection
// through both gateways while Redis is killed and started again: every
// request is answered 200 with the collection (no request lost, no wrong
// answer), each gateway logs the loss once and the return once, by
// itself, and no log holds the password.
func TestSharedStateRedisRestartUnderLoad(t *testing.T) {
	p := startSharedPair(t)
	direct := chromaDirect(t)
	name := uniqueName("sharedload")
	id := direct.createCollection(name, nil)
	t.Cleanup(func() { direct.deleteCollection(name) })
	path := "/api/v2/tenants/default_tenant/databases/default_database/collections/" + name
	loader := credential{kind: credBearer, token: "tok-loader-" + p.suffix}

	var stop atomic.Bool
	var sent, bad atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := freshClient(t, p.g[0].caRoot)
			for i := 0; !stop.Load(); i++ {
				g := p.g[(w+i)%2]
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, g.url+path, nil)
				name, value := loader.header()
				req.Header.Set(name, value)
				resp, err := client.Do(req)
				sent.Add(1)
				if err != nil {
					bad.Add(1)
					t.Errorf("worker %d: %v", w, err)
					continue
				}
				body := readAll(resp)
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) {
					bad.Add(1)
					t.Errorf("worker %d via %s: %d %s", w, resp.Header.Get("X-Gateway"), resp.StatusCode, body)
				}
			}
		}()
	}
	waitSent := func(n int64) {
		target := sent.Load() + n
		require.Eventually(t, func() bool { return sent.Load() >= target }, 60*time.Second, 5*time.Millisecond)
	}
	waitSent(100)
	// (a first ping that missed the timeout on a loaded machine logs a
	// loss and a return at start: count from here)
	var downs, ups [2]int
	for i, g := range p.g {
		downs[i], ups[i] = logCount(g, logSharedDown), logCount(g, logSharedUp)
	}
	p.redis.Kill()
	for i, g := range p.g {
		waitLog(t, g, logSharedDown, downs[i]+1)
	}
	waitSent(100)
	p.redis.Restart(t)
	for i, g := range p.g {
		waitLog(t, g, logSharedUp, ups[i]+1)
	}
	waitSent(100)
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, bad.Load(), "of %d requests", sent.Load())
	for i, g := range p.g {
		assert.Equal(t, downs[i]+1, logCount(g, logSharedDown), "g%d logs the loss once", i+1)
		assert.Equal(t, ups[i]+1, logCount(g, logSharedUp), "g%d logs the return once", i+1)
	}
	p.noPasswordInLogs(t)
	t.Logf("%d requests through a Redis restart", sent.Load())
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
