package chromaauth

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

// TestBadJWTsSpendTheBudget (issue 20): every kind of bad JWT is a failed
// check that takes a try from the address's budget: past it, even a good
// JWT never used from there gets 429 unchecked, while a credential used
// with success before keeps passing.
func TestBadJWTsSpendTheBudget(t *testing.T) {
	scoped := map[string]any{"chroma": map[string]any{"tenant": "t", "databases": []string{"d"}}}
	good := func() string { return signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", scoped)) }
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(good(), ".")[1] + "."
	bad := map[string]string{
		"expired":       signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", map[string]any{"chroma": scoped["chroma"], "exp": time.Now().Add(-time.Hour).Unix()})),
		"other secret":  signJWT(t, []byte(strings.Repeat("x", 48)), "HS256", "", jwtClaims("self", scoped)),
		"other issuer":  signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("evil", scoped)),
		"no tenant":     signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", nil)),
		"alg none":      none,
		"bad signature": good()[:len(good())-4] + "AAAA",
		"garbage":       "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
	}
	for name, tok := range bad {
		t.Run(name, func(t *testing.T) {
			h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: 3, JWT: &JWTConfig{
				Secret: jwtTestSecret, Issuer: "self", TenantClaim: "chroma.tenant", DatabasesClaim: "chroma.databases",
			}}})
			frozen := time.Unix(1_000_000, 0)
			h.limiter.Now = func() time.Time { return frozen } // no refill during the test
			const ip = "203.0.113.9"
			used := good()
			require.Equal(t, http.StatusOK, serve(h, ip, "Bearer "+used), "a JWT used with success")
			for i := 0; i < 3; i++ {
				require.Equal(t, http.StatusUnauthorized, serve(h, ip, "Bearer "+tok), "try %d", i)
			}
			assert.Equal(t, http.StatusTooManyRequests, serve(h, ip, "Bearer "+tok), "the bad JWT again")
			assert.Equal(t, http.StatusTooManyRequests, serve(h, ip, "Bearer "+signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", map[string]any{"chroma": scoped["chroma"], "jti": "new"}))), "a good JWT never used from there")
			assert.Equal(t, http.StatusOK, serve(h, ip, "Bearer "+used), "the JWT used before still passes")
			assert.Equal(t, http.StatusOK, serve(h, "198.51.100.4", "Bearer "+good()), "another address keeps its budget")
		})
	}
}

// TestReplayedOldPasswordSpendsTheBudget (issue 20): a password that
// passed from an address and was then changed is a failure when replayed:
// it is forgotten at its first refusal and spends the budget like any
// other wrong password, ending in 429.
func TestReplayedOldPasswordSpendsTheBudget(t *testing.T) {
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: 3}})
	frozen := time.Unix(1_000_000, 0)
	h.limiter.Now = func() time.Time { return frozen } // no refill during the test
	const ip = "203.0.113.9"
	old := basicHeader("alice", "alice-pw")
	require.Equal(t, http.StatusOK, serve(h, ip, old), "alice's password passes and is known from this address")
	require.Equal(t, http.StatusOK, serve(h, ip, old))

	hsh, err := bcrypt.GenerateFromPassword([]byte("alice-new-pw"), bcrypt.MinCost)
	require.NoError(t, err)
	bob, err := bcrypt.GenerateFromPassword([]byte("bob-pw"), bcrypt.MinCost)
	require.NoError(t, err)
	replaceFile(t, h.HtpasswdFile, "alice:"+string(hsh)+"\nbob:"+string(bob)+"\n")
	h.reload()

	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusUnauthorized, serve(h, ip, old), "replay %d", i)
	}
	assert.Equal(t, http.StatusTooManyRequests, serve(h, ip, old), "the old password, once more")
	assert.Equal(t, http.StatusTooManyRequests, serve(h, ip, basicHeader("alice", "alice-new-pw")), "the new one, never used from there")
	assert.Equal(t, http.StatusOK, serve(h, "198.51.100.4", basicHeader("alice", "alice-new-pw")), "another address")
}
