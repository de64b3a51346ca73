package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowUpstream is a tiny HTTP server in place of Chroma: a request with
// the query ?slow (on a Chroma route, which a credential scoped to the
// default tenant and database may call) answers only when the test
// releases it, so requests are in flight for as long as the test decides
// (deterministic, no sleeps); every other request answers at once.
type slowUpstream struct {
	addr    string
	arrived chan struct{} // one value per slow request that came in
	release chan struct{} // closed by open: slow requests answer
	once    sync.Once
	served  atomic.Int64 // slow answers written
}

// open lets the slow requests answer.
func (u *slowUpstream) open() { u.once.Do(func() { close(u.release) }) }

func startSlowUpstream(t *testing.T) *slowUpstream {
	t.Helper()
	u := &slowUpstream{arrived: make(chan struct{}, 64), release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !r.URL.Query().Has("slow") {
			_, _ = w.Write([]byte(`{"fast":true}`))
			return
		}
		u.arrived <- struct{}{}
		select {
		case <-u.release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(`{"slow":"done"}`))
		u.served.Add(1)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		u.open()
		_ = srv.Close()
	})
	return u
}

// TestProdGracefulStop sends SIGTERM to a gateway while a load runs and
// four valid requests are in flight upstream. The gateway stops accepting
// connections at once, and until then answers new requests as before
// (401 without a credential, never a 200); the in-flight requests finish
// with their full answers; then the process exits 0.
func TestProdGracefulStop(t *testing.T) {
	const inFlight = 4
	up := startSlowUpstream(t)
	creds := newProdCreds(t, 0)
	g := startProdGateway(t, prodSite{upstreams: up.addr, lines: fmt.Sprintf(`	chroma_auth {
		basic %s
		token_file %s
		failures_per_minute off
%s
	}`, creds.htpasswd, creds.tokenFile, jwtLines(creds))})

	fast := g.url + "/api/v2/tenants/default_tenant/databases/default_database/collections_count"
	cs := prodLoadCreds(creds)
	l := startLoad(t.Context(), loadSpec{
		workers: 3, max: 20000, limit: 30 * time.Second, refusedOK: true,
		client: keepAliveClients(t, g.caRoot),
		next: func(_ int, i int64) loadReq {
			if i%4 == 0 { // 4 and the 3 credentials are coprime: each one is sent
				return loadReq{kind: "none", method: http.MethodGet, url: fast, want: []int{http.StatusUnauthorized}}
			}
			nc := cs[int(i)%len(cs)]
			return loadReq{kind: nc.kind, method: http.MethodGet, url: fast, cred: nc.cred, want: []int{http.StatusOK}}
		},
	})
	waitForMore(t, l, "none", http.StatusUnauthorized, 20)

	answers := slowRequests(t, g, up, prodLoadCreds(creds), inFlight)

	require.NoError(t, syscall.Kill(g.proc.cmd.Process.Pid, syscall.SIGTERM))
	answeredAfter := newConnsUntilRefused(t, g, creds)
	t.Logf("after SIGTERM, %d new connections were answered before the listener closed", answeredAfter)
	gone, _ := g.proc.exited()
	require.False(t, gone, "the gateway waits for the requests in flight")
	select {
	case a := <-answers:
		t.Fatalf("an in-flight request ended before the upstream answered: %+v", a)
	default:
	}

	up.open()
	for range inFlight {
		select {
		case a := <-answers:
			require.NoError(t, a.err)
			assert.Equal(t, http.StatusOK, a.status)
			assert.JSONEq(t, `{"slow":"done"}`, a.body)
		case <-time.After(15 * time.Second):
			t.Fatal("an in-flight request did not finish")
		}
	}
	select {
	case <-g.proc.done:
		require.NoError(t, g.proc.waitErr, "exit status after SIGTERM")
	case <-time.After(15 * time.Second):
		t.Fatal("the gateway did not exit after its requests finished")
	}
	stats := l.stop()
	t.Logf("load through SIGTERM: %s", stats.summary())
	stats.requireClean(t, "load through SIGTERM")
	assert.Positive(t, sum(stats.refused), "the load met the closed listener")
	for _, nc := range cs {
		assert.Positive(t, stats.count(nc.kind, http.StatusOK), "%s requests answered 200 before the stop", nc.kind)
	}
	assert.EqualValues(t, inFlight, up.served.Load())
}

// slowPath is a count of the default database's collections, held by the
// slow upstream.
const slowPath = "/api/v2/tenants/default_tenant/databases/default_database/collections_count?slow"

// slowAnswer is how a request to the held upstream ended.
type slowAnswer struct {
	status int
	body   string
	err    error
}

// slowRequests sends n valid requests held upstream (?slow), each on a
// connection of its own, and returns once all are in flight upstream.
func slowRequests(t *testing.T, g *prodGateway, up *slowUpstream, creds []namedCred, n int) <-chan slowAnswer {
	t.Helper()
	answers := make(chan slowAnswer, n)
	for i := range n {
		client, err := trustingHTTPClient(g.caRoot)
		require.NoError(t, err)
		client.Timeout = 30 * time.Second
		cred := creds[i%len(creds)].cred
		go func() {
			status, body, err := send(context.Background(), client, loadReq{method: http.MethodGet, url: g.url + slowPath, cred: cred})
			answers <- slowAnswer{status, string(body), err}
		}()
	}
	for range n {
		select {
		case <-up.arrived:
		case <-time.After(15 * time.Second):
			t.Fatal("the slow requests did not reach the upstream")
		}
	}
	return answers
}

// newConnsUntilRefused opens new connections to g, without and with a
// credential, until one is refused (bounded); each answer must be the
// normal one: 401 without a credential, 200 with (a connection closed
// unanswered is no answer). It returns how many rounds were answered.
func newConnsUntilRefused(t *testing.T, g *prodGateway, creds prodCreds) int {
	t.Helper()
	fresh := freshClient(t, g.caRoot)
	url := g.url + "/api/v2/tenants/default_tenant/databases/default_database/collections_count"
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; ; n++ {
		for _, c := range []struct {
			cred credential
			want int
		}{{credential{}, http.StatusUnauthorized}, {creds.bearer(), http.StatusOK}, {creds.jwtCred(), http.StatusOK}} {
			status, _, err := send(t.Context(), fresh, loadReq{method: http.MethodGet, url: url, cred: c.cred})
			if errors.Is(err, syscall.ECONNREFUSED) {
				return n
			}
			if err != nil && closedByServer(err) {
				// Accepted by the kernel into the listen queue, then
				// closed with the listener: no request was answered.
				continue
			}
			require.NoError(t, err)
			require.Equal(t, c.want, status, "a new request after SIGTERM (with a credential: %v)", c.cred.kind != credNone)
		}
		require.True(t, time.Now().Before(deadline), "the gateway still accepts connections 10 s after SIGTERM")
	}
}
