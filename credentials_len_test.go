package chromaauth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// With jwt configured, a token may be as long as a JWT may
// (jwtauth.MaxTokenLen), not only as long as a static token
// (providers.MaxTokenLen): a JWT with many claims passes; one past the
// JWT bound is malformed, like a static token past its own without jwt
// (credentials.go:74).
func TestLongJWTsPass(t *testing.T) {
	h := floodHandlerWith(t, bcrypt.MinCost, &ChromaAuth{Handler: config.Handler{FailuresPerMinute: -1, JWT: &JWTConfig{Secret: jwtTestSecret, Issuer: "self"}}})
	long := signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", map[string]any{"pad": strings.Repeat("x", providers.MaxTokenLen)}))
	require.Greater(t, len(long), providers.MaxTokenLen)
	require.Less(t, len(long), jwtauth.MaxTokenLen)
	assert.Equal(t, http.StatusOK, serveHeaders(h, "203.0.113.9", "Bearer "+long))
	tooLong := signJWT(t, []byte(jwtTestSecret), "HS256", "", jwtClaims("self", map[string]any{"pad": strings.Repeat("x", jwtauth.MaxTokenLen)}))
	assert.Equal(t, http.StatusUnauthorized, serveHeaders(h, "203.0.113.9", "Bearer "+tooLong))
}
