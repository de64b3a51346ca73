package chromaauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

// provisioned builds a handler the way Caddy does, from its JSON fields.
func provisioned(t testing.TB, h *ChromaAuth) *ChromaAuth {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	require.NoError(t, h.Provision(ctx))
	require.NoError(t, h.Validate())
	h.logger = zap.NewNop()
	t.Cleanup(func() { _ = h.Cleanup() })
	return h
}

var okNext = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	w.WriteHeader(http.StatusOK)
	return nil
})

// serve runs one request through the handler, as from client address ip.
func serve(h *ChromaAuth, ip, authz string) int {
	r := httptest.NewRequest("GET", "/api/v2/tenants/t/databases/d/collections", nil)
	r.RemoteAddr = ip + ":1234"
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	_ = h.ServeHTTP(w, r, okNext)
	return w.Code
}

// floodHandler has two users at the given bcrypt cost; benchmarks use the
// default (10, as `htpasswd -B -C 10`), so that wrong passwords cost what
// they cost in production.
func floodHandler(t testing.TB, perMinute, cost int) *ChromaAuth {
	return floodHandlerWith(t, cost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: perMinute}})
}

func floodHandlerWith(t testing.TB, cost int, h *ChromaAuth) *ChromaAuth {
	dir := t.TempDir()
	var lines string
	for _, u := range []string{"alice", "bob"} {
		hsh, err := bcrypt.GenerateFromPassword([]byte(u+"-pw"), cost)
		require.NoError(t, err)
		lines += u + ":" + string(hsh) + "\n"
	}
	ht := writeTestFile(t, dir, "server.htpasswd", lines)
	h.HtpasswdFile, h.ReloadInterval = ht, -1
	return provisioned(t, h)
}

// flood sends wrong passwords from n goroutines until stop is closed, each
// paced to one request every pace (0: as fast as it can). With oneIP every
// request comes from one address (the limiter's case); without, each comes
// from a new address (a botnet: only the bcrypt slots help).
func flood(h *ChromaAuth, n int, oneIP bool, pace time.Duration, stop chan struct{}, sent, limited *atomic.Int64) *sync.WaitGroup {
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var tick <-chan time.Time
			if pace > 0 {
				t := time.NewTicker(pace)
				defer t.Stop()
				tick = t.C
			}
			for i := 0; ; i++ {
				if tick != nil {
					select {
					case <-stop:
						return
					case <-tick:
					}
				} else {
					select {
					case <-stop:
						return
					default:
					}
				}
				ip := "203.0.113.7"
				if !oneIP {
					ip = fmt.Sprintf("10.%d.%d.%d", g, (i>>8)&255, i&255)
				}
				if serve(h, ip, basicHeader("alice", fmt.Sprintf("guess-%d-%d", g, i))) == http.StatusTooManyRequests {
					limited.Add(1)
				}
				sent.Add(1)
			}
		}(g)
	}
	return &wg
}

// BenchmarkCachedUnderFlood measures valid, cached Basic requests while
// 4 clients send wrong passwords, each at 1,000 a second. Compare ns/op of
// the sub-benchmarks: "quiet" is the baseline; "unprotected" turns off the
// failure limit and lets 64 bcrypts run at once (the gateway without its
// defences); the others run with the defaults.
func BenchmarkCachedUnderFlood(b *testing.B) {
	for _, tc := range []struct {
		name        string
		flood       bool
		oneIP       bool
		unprotected bool
	}{
		{"quiet", false, false, false},
		{"unprotected-one-address", true, true, true},
		{"flood-one-address", true, true, false},
		{"unprotected-many-addresses", true, false, true},
		{"flood-many-addresses", true, false, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var h *ChromaAuth
			if tc.unprotected {
				h = floodHandlerWith(b, bcrypt.DefaultCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: -1, MaxConcurrentBcrypt: 64}})
			} else {
				h = floodHandler(b, DefaultFailuresPerMinute, bcrypt.DefaultCost)
			}
			good := basicHeader("bob", "bob-pw")
			if serve(h, "192.0.2.1", good) != http.StatusOK {
				b.Fatal("bob does not authenticate")
			}
			stop := make(chan struct{})
			var sent, limited atomic.Int64
			var wg *sync.WaitGroup
			if tc.flood {
				wg = flood(h, 4, tc.oneIP, time.Millisecond, stop, &sent, &limited)
				// Measure the flood's steady state: from one address, once
				// it has used up its allowance; else after it built up.
				deadline := time.Now().Add(20 * time.Second)
				for tc.oneIP && !tc.unprotected && limited.Load() == 0 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if serve(h, "192.0.2.1", good) != http.StatusOK {
					b.Fatal("valid cached request refused")
				}
			}
			b.StopTimer()
			close(stop)
			if wg != nil {
				wg.Wait()
			}
			b.ReportMetric(float64(h.auth.Stats().BcryptChecks), "bcrypts")
		})
	}
}

// TestFloodIsBoundedAndValidUsersPass: under a flood of wrong passwords
// from one address, the limiter stops bcrypt after the allowance (exactly:
// each check takes its try first, so racing guesses cannot overshoot), a
// user who logged in from that address before keeps passing, and a right
// password never used from there is refused like the wrong ones.
func TestFloodIsBoundedAndValidUsersPass(t *testing.T) {
	h := floodHandler(t, 10, bcrypt.MinCost) // cheap: -race slows bcrypt a lot
	frozen := time.Unix(1_000_000, 0)
	h.limiter.Now = func() time.Time { return frozen } // no refill: the bound is exact
	good := basicHeader("bob", "bob-pw")
	require.Equal(t, http.StatusOK, serve(h, "192.0.2.1", good))
	require.Equal(t, http.StatusOK, serve(h, "203.0.113.7", good), "bob, from the address the flood will come from")
	before := h.auth.Stats().BcryptChecks

	stop := make(chan struct{})
	var sent, limited atomic.Int64
	wg := flood(h, 4, true, 0, stop, &sent, &limited)
	// Run until the flood has sent 300 requests (not for a time: CI
	// machines differ), serving a valid user from the same address.
	deadline := time.Now().Add(2 * time.Minute)
	valid := 0
	for sent.Load() < 300 && time.Now().Before(deadline) {
		require.Equal(t, http.StatusOK, serve(h, "203.0.113.7", good), "a credential used from the flooding address before the block passes")
		valid++
	}
	close(stop)
	wg.Wait()
	require.GreaterOrEqual(t, sent.Load(), int64(300), "the flood ran")
	bcrypts := h.auth.Stats().BcryptChecks - before
	assert.Equal(t, uint64(10), bcrypts, "exactly the allowance of bcrypts, however the guesses raced")
	assert.Equal(t, sent.Load()-10, limited.Load(), "every other guess was answered 429")
	assert.Equal(t, http.StatusTooManyRequests, serve(h, "203.0.113.7", basicHeader("alice", "alice-pw")), "a right password never used from the address is 429")
	assert.Equal(t, uint64(10), h.auth.Stats().BcryptChecks-before)
	t.Logf("flood: %d wrong passwords, %d bcrypts; %d valid requests served meanwhile", sent.Load(), bcrypts, valid)
}

// TestConcurrentLoadWithReload hammers one handler from many goroutines
// with valid and invalid credentials of both kinds while the credential
// files are replaced underneath; run with -race.
func TestConcurrentLoadWithReload(t *testing.T) {
	dir := t.TempDir()
	ht := writeHtpasswd(t, dir, map[string]string{"alice": "alice-pw", "bob": "bob-pw"})
	toks := writeTestFile(t, dir, "tokens.txt", "tok-a\ntok-b\n")
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{HtpasswdFile: ht, TokenFiles: []string{toks}, FailuresPerMinute: -1, ReloadInterval: caddy.Duration(5 * time.Millisecond)}})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad, served atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				served.Add(1)
				var code int
				switch i % 4 {
				case 0:
					code = serve(h, "10.0.0.1", basicHeader("alice", "alice-pw")) // always valid
				case 1:
					code = serve(h, "10.0.0.2", "Bearer tok-a") // always valid
				case 2:
					if serve(h, "10.0.0.3", basicHeader("alice", fmt.Sprintf("wrong-%d", i))) != http.StatusUnauthorized {
						bad.Add(1)
					}
					continue
				case 3:
					code = serve(h, "10.0.0.4", basicHeader("bob", "bob-pw")) // valid until removed
					if code == http.StatusUnauthorized {
						continue
					}
				}
				if code != http.StatusOK {
					bad.Add(1)
				}
			}
		}(g)
	}
	// Each round replaces both files and waits until the handler shows the
	// round's credentials: a new token passes, the last round's is
	// refused, and bob is in or out as the round's htpasswd says.
	for round := 0; round < 5; round++ {
		users := map[string]string{"alice": "alice-pw"}
		if round%2 == 1 {
			users["bob"] = "bob-pw"
		}
		replaceFile(t, ht, htpasswdText(t, users))
		replaceFile(t, toks, fmt.Sprintf("tok-a\ntok-%d\n", round))
		waitStatus(t, func() int { return serve(h, "10.0.0.5", fmt.Sprintf("Bearer tok-%d", round)) }, http.StatusOK, "round %d reloaded", round)
		prev := "Bearer tok-b"
		if round > 0 {
			prev = fmt.Sprintf("Bearer tok-%d", round-1)
		}
		require.Equal(t, http.StatusUnauthorized, serve(h, "10.0.0.5", prev), "round %d: the last round's token is gone", round)
		wantBob := http.StatusUnauthorized
		if round%2 == 1 {
			wantBob = http.StatusOK
		}
		// Polled: a bcrypt check of bob that a hammering goroutine started
		// under the last round's set may still be shared with this one.
		waitStatus(t, func() int { return serve(h, "10.0.0.5", basicHeader("bob", "bob-pw")) }, wantBob, "round %d: bob", round)
	}
	waitFor(t, func() bool { return served.Load() >= 400 }, "the load ran")
	close(stop)
	wg.Wait()
	assert.Zero(t, bad.Load(), "a valid credential was refused or an invalid one passed")
}
