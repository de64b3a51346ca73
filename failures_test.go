package chromaauth

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

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

// TestBlockedAddressLearnsNothing is the attack of issue 12: once an
// address has used up its failures, 20,000 guesses at a user who is logged
// in (so cached: no bcrypt would run) and at tokens, the right password
// and a valid token among them, are all answered 429, with no bcrypt and
// no difference between right and wrong. Credentials that succeeded from
// the address before the block, and every other address, still pass.
func TestBlockedAddressLearnsNothing(t *testing.T) {
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: 5, Tokens: []string{"valid-token-1", "valid-token-2"}}})
	frozen := time.Unix(1_000_000, 0)
	h.limiter.Now = func() time.Time { return frozen } // no refill during the test
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
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: 10, MaxConcurrentBcrypt: 8}})
	h.limiter.Now = func() time.Time { return time.Unix(1_000_000, 0) }
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
