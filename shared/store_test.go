package shared_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared/redistest"
)

// modes records a store's mode changes.
type modes struct {
	mu   sync.Mutex
	seen []string
}

func (m *modes) on(up bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if up {
		m.seen = append(m.seen, "up")
	} else {
		m.seen = append(m.seen, "down: "+err.Error())
	}
}

func (m *modes) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.seen...)
}

// openUp opens a store and waits until it counts in Redis (on a loaded
// machine the first ping may miss the timeout: the probe then finds it).
func openUp(t *testing.T, url string, m *modes) *shared.Store {
	t.Helper()
	s := open(t, url, m)
	require.Eventually(t, s.Up, 10*time.Second, 5*time.Millisecond)
	return s
}

func open(t *testing.T, url string, m *modes) *shared.Store {
	t.Helper()
	o := shared.Options{URL: url, Probe: 50 * time.Millisecond, Timeout: 500 * time.Millisecond}
	if m != nil {
		o.OnMode = m.on
	}
	s, err := shared.Open(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestTwoStoresShareOneBucketColdBurst: two gateways' stores on one Redis,
// a burst of 10 and a refill of one a minute; 60 requests at once, half
// on each, on a key nobody used: exactly 10 pass, whichever store they
// came through, and every refusal says how long to wait.
func TestTwoStoresShareOneBucketColdBurst(t *testing.T) {
	srv := redistest.Start(t, "")
	a, b := openUp(t, srv.URL(), nil), openUp(t, srv.URL(), nil)
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 60 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			pass, wait, handled := s.Take("q:u:cold", 1.0/60, 10)
			assert.True(t, handled)
			if pass {
				ok.Add(1)
				return
			}
			refused.Add(1)
			assert.Greater(t, wait, time.Duration(0))
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 10, ok.Load())
	assert.EqualValues(t, 50, refused.Load())
}

// TestLeasesInBatches: at 1000/s a lease is 100 requests: 500 requests of
// one gateway cost a handful of Redis calls, not 500.
func TestLeasesInBatches(t *testing.T) {
	srv := redistest.Start(t, "")
	s := openUp(t, srv.URL(), nil)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", srv.Port)})
	defer rdb.Close()
	require.NoError(t, rdb.ConfigResetStat(context.Background()).Err())
	for range 500 {
		ok, _, handled := s.Take("q:u:fast", 1000, 1000)
		require.True(t, ok && handled)
	}
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	calls := 0
	for _, l := range strings.Split(info, "\n") {
		for _, c := range []string{"cmdstat_evalsha:", "cmdstat_eval:"} {
			if strings.HasPrefix(l, c) {
				var n int
				_, _ = fmt.Sscanf(strings.TrimPrefix(l, c), "calls=%d", &n)
				calls += n
			}
		}
	}
	assert.Equal(t, 100, shared.Batch(1000, 1000))
	assert.GreaterOrEqual(t, calls, 5)
	assert.LessOrEqual(t, calls, 7, "one script call per batch of 100 (and one EVAL after the first EVALSHA miss)")
}

// TestGiveAndSpend: a try given back is there again for the next take; a
// spend without a share is owed to Redis and counted at the next call.
func TestGiveAndSpend(t *testing.T) {
	srv := redistest.Start(t, "")
	a, b := openUp(t, srv.URL(), nil), openUp(t, srv.URL(), nil)
	const rate, burst = 1.0 / 3600, 4
	for range 4 {
		ok, _, _ := a.Take("f:10.0.0.1", rate, burst)
		require.True(t, ok)
	}
	ok, _, _ := a.Take("f:10.0.0.1", rate, burst)
	require.False(t, ok, "the burst is spent")
	require.True(t, a.Give("f:10.0.0.1"))
	ok, _, _ = a.Take("f:10.0.0.1", rate, burst)
	require.True(t, ok, "the try given back")

	// b owes two tries (failures without a reservation), then asks: the
	// debt is paid first, so of a fresh burst of 4 it gets 2.
	require.True(t, b.Spend("f:10.0.0.2"))
	require.True(t, b.Spend("f:10.0.0.2"))
	n := 0
	for range 4 {
		if ok, _, _ := b.Take("f:10.0.0.2", rate, burst); ok {
			n++
		}
	}
	assert.Equal(t, 2, n)
}

// TestDownAndBack: Redis killed under concurrent use: every take answers
// (handled=false: count locally), the owner hears "down" once, with no
// password in the error; Redis started again: the store comes back by
// itself and counts in Redis again.
func TestDownAndBack(t *testing.T) {
	const password = "s3cret-redis-pw"
	srv := redistest.Start(t, password)
	m := new(modes)
	s := openUp(t, srv.URL(), m)
	assert.NotContains(t, s.Addr(), password)
	assert.Contains(t, s.Addr(), fmt.Sprint(srv.Port))

	srv.Kill()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				_, _, _ = s.Take(fmt.Sprintf("q:u:%d-%d", i, j), 1000, 1000)
			}
		}()
	}
	wg.Wait()
	require.False(t, s.Up())
	_, _, handled := s.Take("q:u:x", 1, 1)
	assert.False(t, handled)
	assert.False(t, s.Give("f:1.2.3.4"))
	assert.False(t, s.Spend("f:1.2.3.4"))

	srv.Restart(t)
	require.Eventually(t, s.Up, 10*time.Second, 10*time.Millisecond)
	ok, _, handled := s.Take("q:u:x", 1, 1)
	assert.True(t, ok && handled)
	got := m.list()
	require.GreaterOrEqual(t, len(got), 3, "%v", got)
	got = got[len(got)-3:] // (a first ping that missed the timeout adds a down and an up before)
	assert.Equal(t, "up", got[0])
	assert.True(t, strings.HasPrefix(got[1], "down: "), got[1])
	assert.Equal(t, "up", got[2], "down once, then up: %v", m.list())
	for _, g := range got {
		assert.NotContains(t, g, password)
	}
}

// TestWrongPasswordIsDownNotFatal: a Redis refusing the password leaves
// the store down (the gateway counts locally) and the error names no
// password; a URL that is no redis URL is an error naming no password.
func TestWrongPasswordIsDownNotFatal(t *testing.T) {
	srv := redistest.Start(t, "right-pw")
	m := new(modes)
	s := open(t, fmt.Sprintf("redis://:wrong-pw-123@127.0.0.1:%d/0", srv.Port), m)
	assert.False(t, s.Up())
	got := m.list()
	require.Len(t, got, 1)
	assert.NotContains(t, got[0], "wrong-pw-123")
	assert.NotContains(t, s.Addr(), "wrong-pw-123")

	_, err := shared.Open(shared.Options{URL: "http://:pw-in-url@127.0.0.1:1/0"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pw-in-url")
	_, err = shared.Open(shared.Options{URL: "redis://:pw-in-url@127.0.0.1:1/notadb"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pw-in-url")
}

// TestDownAtStart: no Redis at all when the store opens: down from the
// start, not an error, and up once a Redis answers there.
func TestDownAtStart(t *testing.T) {
	srv := redistest.Start(t, "")
	srv.Kill()
	m := new(modes)
	s := open(t, srv.URL(), m)
	assert.False(t, s.Up())
	srv.Restart(t)
	require.Eventually(t, s.Up, 10*time.Second, 10*time.Millisecond)
	assert.Len(t, m.list(), 2)
}

// TestTLS: a rediss:// URL with a password against a Redis that speaks
// only TLS, its certificate checked against the roots (SSL_CERT_FILE, set
// by TestMain to the test CA): two stores share one bucket over it; a
// plain redis:// URL to the same port never counts in Redis (down).
func TestTLS(t *testing.T) {
	srv := redistest.StartTLS(t, "tls-pw", testCerts)
	require.True(t, strings.HasPrefix(srv.URL(), "rediss://"))
	a, b := openUp(t, srv.URL(), nil), openUp(t, srv.URL(), nil)
	n := 0
	for i := range 10 {
		if ok, _, handled := []*shared.Store{a, b}[i%2].Take("q:u:tls", 1.0/60, 4); ok && handled {
			n++
		}
	}
	assert.Equal(t, 4, n)
	plain := open(t, strings.Replace(srv.URL(), "rediss://", "redis://", 1), nil)
	assert.False(t, plain.Up())
}

// TestSlowRedis: a Redis that stops answering for 1.5 s (CLIENT PAUSE)
// costs a request at most the timeout, not the pause: the store counts
// locally meanwhile and comes back once Redis answers again.
func TestSlowRedis(t *testing.T) {
	srv := redistest.Start(t, "")
	m := new(modes)
	s, err := shared.Open(shared.Options{URL: srv.URL(), Timeout: 100 * time.Millisecond, Probe: 50 * time.Millisecond, OnMode: m.on})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.Eventually(t, s.Up, 10*time.Second, 5*time.Millisecond)
	ok, _, handled := s.Take("q:u:warm", 1000, 1000)
	require.True(t, ok && handled)
	l, err := srv.Do("CLIENT", "PAUSE", "1500", "ALL")
	require.NoError(t, err)
	require.Equal(t, "+OK", l)
	paused := time.Now()
	_, _, handled = s.Take("q:u:slow", 1000, 1000)
	assert.False(t, handled, "over the timeout: count locally")
	assert.Less(t, time.Since(paused), 1400*time.Millisecond, "a request waits the timeout at most, not the 1.5 s pause")
	assert.False(t, s.Up())
	require.Eventually(t, s.Up, 10*time.Second, 10*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(paused), time.Second, "back only once Redis answers")
	ok, _, handled = s.Take("q:u:slow", 1000, 1000)
	assert.True(t, ok && handled)
	got := m.list()
	require.GreaterOrEqual(t, len(got), 3, "%v", got)
	assert.True(t, strings.HasPrefix(got[len(got)-2], "down: "), "%v", got)
	assert.Equal(t, "up", got[len(got)-1])
}
