package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientFrom is an HTTPS client of g whose connections come from the
// loopback address src (127.0.0.2, 127.0.0.3, ...): to the gateway, a
// different client address, as it would be on a network.
func clientFrom(t *testing.T, g *gateway, src string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(g.caRoot)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	addr := "127.0.0.1:" + strconv.Itoa(g.port)
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "tcp", addr)
			},
		},
	}
}

// statusOf sends GET path with one credential header and returns the
// status.
func statusOf(t *testing.T, c *http.Client, g *gateway, path string, cred credential) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.url+path, nil)
	require.NoError(t, err)
	if name, value := cred.header(); name != "" {
		req.Header.Set(name, value)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestRateLimitedAddressLearnsNothing (issue 12): through the real binary
// in front of real Chroma, an address that has used up its failures gets
// 429 for a logged-in user's right password and for a valid token it never
// used, exactly as for wrong guesses; a token it used before the block
// still passes, and another address's user is not affected.
func TestRateLimitedAddressLearnsNothing(t *testing.T) {
	c := suite.creds
	used, unused := "used-"+randomHex(12), "unused-"+randomHex(12)
	// 3 a minute: one try comes back only after 20 s, longer than the test.
	g := startGateway(t, fmt.Sprintf("chroma_auth {\n\t\tbasic %s\n\t\ttoken %s %s\n\t\tfailures_per_minute 3\n\t}", c.htpasswd, used, unused))
	const path = "/api/v2/tenants/default_tenant/databases/default_database/collections"
	user, attacker := clientFrom(t, g, "127.0.0.2"), clientFrom(t, g, "127.0.0.3")
	alice := credential{kind: credBasic, user: c.user, password: c.password}
	usedTok := credential{kind: credBearer, token: used}
	unusedTok := credential{kind: credBearer, token: unused}

	require.Equal(t, http.StatusOK, statusOf(t, user, g, path, alice), "alice logs in: the gateway caches her password")
	require.Equal(t, http.StatusOK, statusOf(t, attacker, g, path, usedTok), "a token used from the attacker's address before the block")
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusUnauthorized, statusOf(t, attacker, g, path, credential{kind: credBearer, token: fmt.Sprint("guess-", i)}), "failure %d", i)
	}
	guesses := []credential{
		alice, // right: the password the attacker is after
		{kind: credBasic, user: c.user, password: "wrong"},
		unusedTok, // right: a valid token never used from here
		{kind: credBearer, token: "guess-more"},
	}
	for round := 0; round < 5; round++ {
		for _, cred := range guesses {
			assert.Equal(t, http.StatusTooManyRequests, statusOf(t, attacker, g, path, cred), "round %d, kind %d: right or wrong, 429", round, cred.kind)
		}
	}
	assert.Equal(t, http.StatusOK, statusOf(t, attacker, g, path, usedTok), "a credential used before the block keeps working")
	assert.Equal(t, http.StatusOK, statusOf(t, user, g, path, alice), "another address's user passes")
	assert.Equal(t, http.StatusOK, statusOf(t, user, g, path, unusedTok), "and so does a valid token from it")
}
