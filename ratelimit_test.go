package chromaauth

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestFailureLimiter(t *testing.T) {
	l := newFailureLimiter(3)
	now := time.Unix(1000, 0)
	a, b := authz.ClientKey("1.2.3.4"), authz.ClientKey("5.6.7.8")
	for i := 0; i < 3; i++ {
		_, ok := l.reserve(a, now)
		require.True(t, ok, "try %d", i)
	}
	wait, ok := l.reserve(a, now)
	assert.False(t, ok, "the bucket is empty")
	assert.InDelta(t, 20*time.Second, wait, float64(time.Second), "one try back after a third of a minute")
	_, ok = l.reserve(b, now)
	assert.True(t, ok, "other clients are not affected")

	_, ok = l.reserve(a, now.Add(21*time.Second))
	assert.True(t, ok, "refilled")
	_, ok = l.reserve(a, now.Add(21*time.Second))
	assert.False(t, ok)

	off := newFailureLimiter(0)
	off.fail(a, now, nil)
	_, ok = off.reserve(a, now)
	assert.True(t, ok, "0 turns the limiter off")
	assert.True(t, off.knows(a, credDigest{}))
}

// TestFailureLimiterReleaseAndSuccess: a try reserved for a valid
// credential, or for a check that could not run, is given back; only a
// wrong credential spends one.
func TestFailureLimiterReleaseAndSuccess(t *testing.T) {
	l := newFailureLimiter(2)
	now := time.Unix(1000, 0)
	a := authz.ClientKey("192.0.2.1")
	good := l.digest(credential{basic: true, user: "alice", pass: "pw"})
	for i := 0; i < 10; i++ {
		_, ok := l.reserve(a, now)
		require.True(t, ok)
		if i%2 == 0 {
			l.succeeded(a, good)
		} else {
			l.release(a)
		}
	}
	assert.True(t, l.knows(a, good))
	assert.False(t, l.knows(authz.ClientKey("192.0.2.2"), good), "known per address")
	l.fail(a, now, nil)
	l.fail(a, now, &good)
	_, ok := l.reserve(a, now)
	assert.False(t, ok, "two failures empty a bucket of two")
	assert.False(t, l.knows(a, good), "a known credential that fails is forgotten")
}

func TestCredentialDigest(t *testing.T) {
	l, other := newFailureLimiter(1), newFailureLimiter(1)
	basic := credential{basic: true, user: "alice", pass: "a:b"}
	assert.Equal(t, l.digest(basic), l.digest(credential{basic: true, user: "alice", pass: "a:b"}))
	assert.NotEqual(t, l.digest(basic), other.digest(basic), "keyed by a per-process secret")
	// a user never holds ':' (Basic splits at the first), so the split
	// point is part of what is digested
	assert.NotEqual(t, l.digest(credential{basic: true, user: "alic", pass: "e:a:b"}), l.digest(basic))
	assert.NotEqual(t, l.digest(credential{token: "alice:a:b"}), l.digest(credential{basic: true, user: "alice", pass: "a:b"}), "a token is not a Basic pair")
	long := credential{token: string(make([]byte, digestStack+10))}
	longer := credential{token: string(make([]byte, digestStack+11))}
	assert.NotEqual(t, l.digest(long), l.digest(longer), "long credentials are digested whole")
	longBasic := credential{basic: true, user: "u", pass: string(make([]byte, digestStack))}
	assert.NotEqual(t, l.digest(longBasic), l.digest(credential{basic: true, user: "u", pass: string(make([]byte, digestStack+1))}))
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                "192.0.2.1",
		"::ffff:192.0.2.1":         "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1":     "2001:db8:1:2::",
		"fe80::1%eth0":             "fe80::",
		"2001:db8:1:3::1":          "2001:db8:1:3::",
		"::1":                      "::",
		"not-an-address":           "invalid IP",
		"":                         "invalid IP",
		"2001:0db8:0001:0002::abc": "2001:db8:1:2::",
	} {
		assert.Equal(t, want, authz.ClientKey(in).String(), in)
	}
}

// TestIPv6CountsByPrefix: the addresses of one /64 share a bucket; the
// next /64 has its own.
func TestIPv6CountsByPrefix(t *testing.T) {
	h := floodHandler(t, 3, bcrypt.MinCost)
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusUnauthorized, serve(h, fmt.Sprintf("[2001:db8:1:2::%x]", i+1), basicHeader("alice", "wrong")))
	}
	assert.Equal(t, http.StatusTooManyRequests, serve(h, "[2001:db8:1:2:abcd::99]", basicHeader("alice", "alice-pw")), "same /64")
	assert.Equal(t, http.StatusOK, serve(h, "[2001:db8:1:3::1]", basicHeader("alice", "alice-pw")), "next /64")
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusUnauthorized, serve(h, "192.0.2.7", basicHeader("alice", "wrong")))
	}
	assert.Equal(t, http.StatusTooManyRequests, serve(h, "[::ffff:192.0.2.7]", basicHeader("alice", "alice-pw")), "IPv4-mapped is IPv4")
}

func TestFailureLimiterMemoryIsBounded(t *testing.T) {
	l := newFailureLimiter(10)
	now := time.Unix(1000, 0)
	user := authz.ClientKey("192.0.2.200")
	_, _ = l.reserve(user, now)
	l.succeeded(user, l.digest(credential{token: "t"}))
	for i := 0; i < maxTrackedClients+5000; i++ {
		l.fail(authz.ClientKey(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)), now, nil)
	}
	assert.LessOrEqual(t, l.size(), maxTrackedClients)
	assert.True(t, l.knows(user, l.digest(credential{token: "t"})), "addresses that only failed go first")

	for i := 0; i < 3*maxKnownPerClient; i++ {
		_, _ = l.reserve(user, now)
		l.succeeded(user, l.digest(credential{token: fmt.Sprint("tok-", i)}))
	}
	s := l.shard(user)
	assert.Len(t, s.clients[user].known, maxKnownPerClient, "a bounded set per address")
	assert.True(t, l.knows(user, l.digest(credential{token: fmt.Sprint("tok-", 3*maxKnownPerClient-1)})), "the newest stay")
}

// TestBlockedAddressLearnsNothing is the attack of issue 12: once an
// address has used up its failures, 20,000 guesses at a user who is logged
// in (so cached: no bcrypt would run) and at tokens, the right password
// and a valid token among them, are all answered 429, with no bcrypt and
// no difference between right and wrong. Credentials that succeeded from
// the address before the block, and every other address, still pass.
func TestBlockedAddressLearnsNothing(t *testing.T) {
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{FailuresPerMinute: 5, Tokens: []string{"valid-token-1", "valid-token-2"}})
	frozen := time.Unix(1_000_000, 0)
	h.limiter.now = func() time.Time { return frozen } // no refill during the test
	const attacker, user = "203.0.113.9", "198.51.100.4"
	right := basicHeader("alice", "alice-pw")
	require.Equal(t, http.StatusOK, serve(h, user, right), "alice logs in: cached from now on")
	require.Equal(t, http.StatusOK, serve(h, attacker, "Bearer valid-token-1"), "used from the attacker's address before the block")
	for i := 0; i < 5; i++ {
		require.Equal(t, http.StatusUnauthorized, serve(h, attacker, basicHeader("alice", fmt.Sprint("guess-", i))))
	}
	bcrypts := h.auth.Stats().BcryptChecks
	codes := map[int]int{}
	for i := 0; i < 20000; i++ {
		var authz string
		switch i % 4 {
		case 0:
			authz = basicHeader("alice", fmt.Sprint("guess-more-", i))
		case 1:
			authz = right
		case 2:
			authz = fmt.Sprint("Bearer guess-", i)
		case 3:
			authz = "Bearer valid-token-2"
		}
		codes[serve(h, attacker, authz)]++
	}
	assert.Equal(t, map[int]int{http.StatusTooManyRequests: 20000}, codes, "every guess, right or wrong, is 429")
	assert.Equal(t, bcrypts, h.auth.Stats().BcryptChecks, "no bcrypt while blocked")

	assert.Equal(t, http.StatusOK, serve(h, attacker, "Bearer valid-token-1"), "a credential used before the block passes")
	assert.Equal(t, http.StatusOK, serve(h, user, right), "another address is not affected")
	assert.Equal(t, http.StatusOK, serve(h, user, "Bearer valid-token-2"))
	frozen = frozen.Add(13 * time.Second) // one try back
	assert.Equal(t, http.StatusOK, serve(h, attacker, right), "after the wait, a right password passes")
	assert.Equal(t, http.StatusOK, serve(h, attacker, right), "and is known from then on")
}

// TestConcurrentGuessesStayWithinTheLimit: many guesses racing at one
// address check no more credentials than the allowance, since each takes
// its try before its check.
func TestConcurrentGuessesStayWithinTheLimit(t *testing.T) {
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{FailuresPerMinute: 10, MaxConcurrentBcrypt: 8})
	h.limiter.now = func() time.Time { return time.Unix(1_000_000, 0) }
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				pass := fmt.Sprintf("guess-%d-%d", g, i)
				if g == 7 && i == 4 {
					pass = "alice-pw"
				}
				code := serve(h, "203.0.113.10", basicHeader("alice", pass))
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	// A valid guess gives its try back: at most the 10 tries spent on
	// wrong ones, and the one right one, were checked.
	assert.Equal(t, 10, codes[http.StatusUnauthorized], "every try of the allowance spent: %v", codes)
	assert.LessOrEqual(t, codes[http.StatusOK], 1)
	assert.LessOrEqual(t, h.auth.Stats().BcryptChecks, uint64(11))
	assert.Equal(t, 160, codes[http.StatusUnauthorized]+codes[http.StatusOK]+codes[http.StatusTooManyRequests])
}

// BenchmarkLimiterKnown is what the failure limit adds to a valid request
// whose credential its address used before: the address key, a keyed
// digest and a read-locked lookup.
func BenchmarkLimiterKnown(b *testing.B) {
	l := newFailureLimiter(60)
	c := credential{basic: true, user: "alice", pass: "secret"}
	a := authz.ClientKey("192.0.2.1")
	_, _ = l.reserve(a, time.Now())
	l.succeeded(a, l.digest(c))
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !l.knows(authz.ClientKey("192.0.2.1"), l.digest(c)) {
				b.Fatal("not known")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !l.knows(authz.ClientKey("192.0.2.1"), l.digest(c)) {
					b.Fatal("not known")
				}
			}
		})
	})
}
