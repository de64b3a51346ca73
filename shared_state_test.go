package chromaauth

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/admission"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/metrics"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared/redistest"
)

// twoGateways loads one config with two sites, each its own chroma_auth
// handler (its own failure limiter, quotas and shared store: the timeouts
// differ, so the stores are two, as in two processes) naming one Redis.
func twoGateways(t *testing.T, url, opts string, up *upstream) (a, b *gateway) {
	t.Helper()
	pa, pb := freePort(t), freePort(t)
	site := func(port int, timeout string) string {
		return fmt.Sprintf("http://127.0.0.1:%d {\n\tchroma_auth {\n\t\tshared_state %s {\n\t\t\ttimeout %s\n\t\t}\n%s\n\t}\n%s\n}\n", port, url, timeout, opts, proxyTo(up))
	}
	cfg := "{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n\tlog {\n\t\tlevel ERROR\n\t}\n}\n\n" +
		site(pa, "500ms") + "\n" + site(pb, "501ms")
	require.NoError(t, loadCaddyfile(cfg))
	t.Cleanup(func() { _ = caddy.Stop() })
	a = &gateway{URL: fmt.Sprintf("http://127.0.0.1:%d", pa), Addr: fmt.Sprintf("127.0.0.1:%d", pa)}
	b = &gateway{URL: fmt.Sprintf("http://127.0.0.1:%d", pb), Addr: fmt.Sprintf("127.0.0.1:%d", pb)}
	waitListening(t, a.Addr)
	waitListening(t, b.Addr)
	waitStoresUp(t)
	return a, b
}

// waitStoresUp waits until every open shared store counts in Redis (on a
// loaded machine a first ping may miss the timeout; the probe finds it).
func waitStoresUp(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		all := true
		admission.EachStore(func(s *shared.Store) bool {
			all = all && s.Up()
			return true
		})
		return all
	}, 10*time.Second, 5*time.Millisecond)
}

// answer is one request's outcome, read whole.
type answer struct {
	status int
	body   string
	retry  string
	err    error
}

func send(g *gateway, method, path, body string, hdr map[string]string) answer {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.URL+path, rd)
	if err != nil {
		return answer{err: err}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(b), retry: resp.Header.Get("Retry-After"), err: err}
}

// coldBurst sends n requests at once, alternating the gateways, and
// checks every answer: 200 from upstream, or the quota's 429.
func coldBurst(t *testing.T, n int, hdr map[string]string, gws ...*gateway) (passed int) {
	t.Helper()
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = send(gws[i%len(gws)], "GET", quotaColl, "", hdr)
		}()
	}
	close(start)
	wg.Wait()
	for i, a := range answers {
		require.NoError(t, a.err, i)
		switch a.status {
		case http.StatusOK:
			passed++
		case http.StatusTooManyRequests:
			assert.NotEmpty(t, a.retry, i)
			assert.Contains(t, a.body, `"error":"RateLimitError"`, i)
		default:
			t.Errorf("answer %d: %d %s", i, a.status, a.body)
		}
	}
	return passed
}

// TestSharedStateTwoGatewaysShareOneRate: an identity's burst of 6 (one a
// minute after it) is one budget across both gateways: of 30 requests at
// once on a cold key, half through each, 6 pass, the rest are 429, and
// upstream sees exactly 6. Each gateway alone would let 6 through.
func TestSharedStateTwoGatewaysShareOneRate(t *testing.T) {
	srv := redistest.Start(t, "pw-"+t.Name())
	up := newUpstream(t)
	a, b := twoGateways(t, srv.URL(), "\t\ttoken tok\n\t\tlimits {\n\t\t\trate 1/m\n\t\t\tburst 6\n\t\t}", up)
	assert.Equal(t, 6, coldBurst(t, 30, bearer("tok"), a, b))
	assert.Len(t, up.requests(), 6, "no refused request reached upstream")
	// each gateway now refuses at once (its share, or Redis, says empty)
	assert.Equal(t, http.StatusTooManyRequests, send(a, "GET", quotaColl, "", bearer("tok")).status)
	assert.Equal(t, http.StatusTooManyRequests, send(b, "GET", quotaColl, "", bearer("tok")).status)
}

// TestSharedStateTwoGatewaysShareOneFailureBudget: an address's failures
// count across both gateways: 6 wrong passwords a minute, spread over
// both, block the address on both, for a right password never used from
// it too; and a user who already passed keeps passing.
func TestSharedStateTwoGatewaysShareOneFailureBudget(t *testing.T) {
	srv := redistest.Start(t, "")
	up := newUpstream(t)
	ht := writeHtpasswd(t, t.TempDir(), map[string]string{"alice": "alicepw", "bob": "bobpw"})
	a, b := twoGateways(t, srv.URL(), "\t\tbasic "+ht+"\n\t\tfailures_per_minute 6", up)
	alice := map[string]string{"Authorization": basicHeader("alice", "alicepw")}
	require.Equal(t, http.StatusOK, send(a, "GET", quotaColl, "", alice).status)
	wrong := map[string]string{"Authorization": basicHeader("bob", "guess")}
	for i := range 6 {
		g := []*gateway{a, b}[i%2]
		r := send(g, "GET", quotaColl, "", wrong)
		require.Equal(t, http.StatusUnauthorized, r.status, "try %d: %s", i, r.body)
	}
	bob := map[string]string{"Authorization": basicHeader("bob", "bobpw")}
	for _, g := range []*gateway{a, b} {
		r := send(g, "GET", quotaColl, "", bob)
		assert.Equal(t, http.StatusTooManyRequests, r.status, "the budget is spent on both: %s", r.body)
		assert.NotEmpty(t, r.retry)
		assert.Equal(t, http.StatusTooManyRequests, send(g, "GET", quotaColl, "", wrong).status)
	}
	assert.Equal(t, http.StatusOK, send(a, "GET", quotaColl, "", alice).status, "a credential that passed from here before")
}

// TestSharedStateRedisKilledUnderLoad: four clients send a steady load
// through both gateways (within every limit) while Redis is killed and
// started again: every request is answered, every answer is upstream's
// 200 for the right user, the mode metric goes to 0 and back to 1 by
// itself, and once back the two gateways share one budget again.
func TestSharedStateRedisKilledUnderLoad(t *testing.T) {
	const pw = "load-pw-9f8e"
	srv := redistest.Start(t, pw)
	up := newUpstream(t)
	users := writeTestFile(t, t.TempDir(), "users.yaml", "users:\n  - id: load\n    tokens: [tok]\n  - id: after\n    tokens: [tok-after]\n    limits: { rate: 1/m, burst: 4 }\n")
	a, b := twoGateways(t, srv.URL(), "\t\ttoken_file "+users+"\n\t\tlimits {\n\t\t\trate 100000/s\n\t\t}", up)
	gauge := metrics.SharedUpGauge(shared.Redact(srv.URL()))
	require.Eventually(t, func() bool { return testutil.ToFloat64(gauge) == 1 }, 10*time.Second, time.Millisecond)
	assert.NotContains(t, shared.Redact(srv.URL()), pw)

	var stop atomic.Bool
	var sent, wrong atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				r := send([]*gateway{a, b}[(w+i)%2], "GET", quotaColl, "", bearer("tok"))
				sent.Add(1)
				if r.err != nil || r.status != http.StatusOK || strings.Contains(r.body, "Error") {
					wrong.Add(1)
					t.Errorf("worker %d request %d: %v %d %s", w, i, r.err, r.status, r.body)
				}
			}
		}()
	}
	waitSent := func(n int64) {
		target := sent.Load() + n
		require.Eventually(t, func() bool { return sent.Load() >= target }, 30*time.Second, time.Millisecond)
	}
	waitSent(200)
	srv.Kill()
	require.Eventually(t, func() bool { return testutil.ToFloat64(gauge) == 0 }, 10*time.Second, time.Millisecond, "the gateways see Redis gone")
	waitSent(200)
	srv.Restart(t)
	require.Eventually(t, func() bool { return testutil.ToFloat64(gauge) == 1 }, 10*time.Second, 5*time.Millisecond, "and back, by themselves")
	waitSent(200)
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, wrong.Load())
	for _, s := range up.requests() {
		require.Equal(t, "GET", s.Method)
	}
	assert.EqualValues(t, sent.Load(), len(up.requests()), "every request reached upstream once")

	// Once back, both count in Redis again (each store found Redis by its
	// own probe): one budget of 4 for an identity across both.
	waitStoresUp(t)
	assert.Equal(t, 4, coldBurst(t, 20, bearer("tok-after"), a, b))
}

// TestSharedStateDownCountsLocally: with Redis gone, each gateway counts
// on its own: an identity's burst of 3 is 3 per gateway (the quotas fail
// open to local limits, never to none), and 6 wrong passwords a minute
// block the address on the gateway that saw them (the failure limiter's
// local budget) while the other still has its own.
func TestSharedStateDownCountsLocally(t *testing.T) {
	srv := redistest.Start(t, "")
	up := newUpstream(t)
	ht := writeHtpasswd(t, t.TempDir(), map[string]string{"alice": "alicepw"})
	a, b := twoGateways(t, srv.URL(), "\t\tbasic "+ht+"\n\t\ttoken tok\n\t\tfailures_per_minute 6\n\t\tlimits {\n\t\t\trate 1/m\n\t\t\tburst 3\n\t\t}", up)
	srv.Kill()
	// the first call after the kill finds Redis gone; then both count locally
	_ = send(a, "GET", quotaColl, "", map[string]string{"Authorization": basicHeader("nobody", "x")})
	_ = send(b, "GET", quotaColl, "", map[string]string{"Authorization": basicHeader("nobody", "x")})
	require.Eventually(t, func() bool {
		down := true
		admission.EachStore(func(s *shared.Store) bool {
			down = down && !s.Up()
			return true
		})
		return down
	}, 10*time.Second, 5*time.Millisecond)

	assert.Equal(t, 3, coldBurst(t, 10, bearer("tok"), a), "gateway a: its own burst")
	assert.Equal(t, 3, coldBurst(t, 10, bearer("tok"), b), "gateway b: its own burst")

	wrong := map[string]string{"Authorization": basicHeader("alice", "guess")}
	for i := 0; i < 5; i++ { // with the probe above, a has seen 6 failures
		require.Equal(t, http.StatusUnauthorized, send(a, "GET", quotaColl, "", wrong).status, i)
	}
	alice := map[string]string{"Authorization": basicHeader("alice", "alicepw")}
	assert.Equal(t, http.StatusTooManyRequests, send(a, "GET", quotaColl, "", alice).status, "a's local budget is spent")
	assert.Equal(t, http.StatusOK, send(b, "GET", quotaColl, "", alice).status, "b has its own while Redis is out")
}
