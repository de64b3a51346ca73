package chromaauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

// serveHeaders runs one request with the given Authorization values
// (none, one, or several) through the handler, as from address ip.
func serveHeaders(h *ChromaAuth, ip string, authorization ...string) int {
	r := httptest.NewRequest("GET", "/api/v2/tenants/t/databases/d/collections", nil)
	r.RemoteAddr = ip + ":1234"
	for _, a := range authorization {
		r.Header.Add("Authorization", a)
	}
	caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	_ = h.ServeHTTP(w, r, okNext)
	return w.Code
}

// Malformed and ambiguous credentials are failures: each takes a try from
// the address's budget, and past it a good credential never used from
// there gets 429 unchecked (mutants of authenticate.go:30, the failure
// counted on an extraction refusal).
func TestMalformedAndAmbiguousCredentialsSpendTheBudget(t *testing.T) {
	for name, bad := range map[string][]string{
		"not base64":      {"Basic !!!not-base64"},
		"no colon":        {"Basic " + b64("alice")},
		"empty bearer":    {"Bearer "},
		"two headers":     {basicHeader("alice", "wrong"), basicHeader("bob", "wrong")},
		"basic twice too": {basicHeader("alice", "alice-pw"), basicHeader("alice", "alice-pw")},
	} {
		t.Run(name, func(t *testing.T) {
			h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: 3, Tokens: []string{"tok-static-0123"}}})
			frozen := time.Unix(1_000_000, 0)
			h.limiter.Now = func() time.Time { return frozen } // no refill during the test
			const ip = "203.0.113.9"
			for i := 0; i < 3; i++ {
				require.Equal(t, http.StatusUnauthorized, serveHeaders(h, ip, bad...), "try %d", i)
			}
			assert.Equal(t, http.StatusTooManyRequests, serveHeaders(h, ip, basicHeader("alice", "alice-pw")), "a good password never used from there")
			assert.Equal(t, http.StatusOK, serveHeaders(h, "198.51.100.4", basicHeader("alice", "alice-pw")), "another address keeps its budget")
		})
	}
}

// A request without any credential is not a guess: however many come,
// the address's budget stays whole (the client is asked to authenticate;
// a browser or client library first sends none).
func TestMissingCredentialsSpendNothing(t *testing.T) {
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: 3}})
	frozen := time.Unix(1_000_000, 0)
	h.limiter.Now = func() time.Time { return frozen }
	const ip = "203.0.113.9"
	for i := 0; i < 10; i++ {
		require.Equal(t, http.StatusUnauthorized, serveHeaders(h, ip), "request %d without credentials", i)
	}
	for i := 0; i < 2; i++ {
		require.Equal(t, http.StatusUnauthorized, serveHeaders(h, ip, basicHeader("bob", "wrong")), "wrong password %d", i)
	}
	assert.Equal(t, http.StatusOK, serveHeaders(h, ip, basicHeader("alice", "alice-pw")), "the last try of the budget is still there")
}

// With the limiter off, a malformed credential is refused 401 like any
// other, with nothing to count it in.
func TestMalformedCredentialWithTheLimiterOff(t *testing.T) {
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: -1}})
	require.Nil(t, h.limiter)
	for i := 0; i < 5; i++ {
		assert.Equal(t, http.StatusUnauthorized, serveHeaders(h, "203.0.113.9", "Basic !!!"), i)
	}
	assert.Equal(t, http.StatusOK, serveHeaders(h, "203.0.113.9", basicHeader("alice", "alice-pw")))
}
