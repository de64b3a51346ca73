package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTLS checks the trust flow users follow with Caddy's local CA: each
// client works when given the root certificate by file and fails without
// it, and plain HTTP to the HTTPS port gets no Chroma data.
func TestTLS(t *testing.T) {
	mode := suite.creds.modes()[0]
	g := startGateway(t, mode.directive)

	t.Run("go client trusts the CA only by WithSSLCert", func(t *testing.T) {
		ctx := t.Context()
		untrusting, err := chroma.NewHTTPClient(chroma.WithBaseURL(g.url), chroma.WithAuth(mode.good.goAuth()))
		require.NoError(t, err)
		err = untrusting.Heartbeat(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "certificate signed by unknown authority")
		_ = untrusting.Close()

		trusting := newGoClient(t, g, mode.good.goAuth())
		require.NoError(t, trusting.Heartbeat(ctx))
		_, err = trusting.CountCollections(ctx)
		require.NoError(t, err)
	})

	t.Run("node trusts the CA only by NODE_EXTRA_CA_CERTS", func(t *testing.T) {
		type result struct {
			Heartbeat   float64 `json:"heartbeat"`
			ClientError string  `json:"clientError"`
			FetchStatus int     `json:"fetchStatus"`
			FetchCause  string  `json:"fetchCause"`
		}
		var trusted, untrusted result
		runJS(t, g, "js/tls.mjs", &trusted, credential{})
		assert.Positive(t, trusted.Heartbeat)
		assert.Equal(t, http.StatusOK, trusted.FetchStatus)

		runNodeUntrusting(t, g, &untrusted)
		assert.Equal(t, "ChromaConnectionError", untrusted.ClientError)
		assert.Zero(t, untrusted.FetchStatus)
		// Node's codes for a chain it cannot verify, not a refused connection.
		assert.Regexp(t, `CERT|ISSUER|SIGNATURE`, untrusted.FetchCause)
	})

	t.Run("curl trusts the CA only by --cacert", func(t *testing.T) {
		status, body := curl(t, g, mode.good, http.MethodGet, dbPath+"/collections", nil)
		require.Equal(t, http.StatusOK, status, "%s", body)

		_, err := runCurl(t, "--silent", "--show-error", g.url+"/api/v2/heartbeat")
		var exitErr *exec.ExitError
		require.True(t, errors.As(err, &exitErr), "curl without --cacert must fail, got %v", err)
		assert.Equal(t, 60, exitErr.ExitCode(), "curl's code for an unverifiable peer certificate: %s", exitErr.Stderr)
	})

	t.Run("plain HTTP to the HTTPS port gets no data", func(t *testing.T) {
		oracle := chromaDirect(t)
		fixture := uniqueName("tls-fixture")
		oracle.createCollection(fixture, map[string][]float32{"a": {1, 0, 0}})
		t.Cleanup(func() { oracle.deleteCollection(fixture) })

		plainURL := "http://localhost:" + strconv.Itoa(g.port)
		for _, path := range []string{"/api/v2/heartbeat", dbPath + "/collections"} {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, plainURL+path, nil)
			require.NoError(t, err)
			name, value := mode.good.header()
			req.Header.Set(name, value)
			resp, err := plainHTTPClient().Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", path, body)
			assert.NotContains(t, string(body), "heartbeat", path)
			assert.NotContains(t, string(body), fixture, path)
		}

		untrusting, err := chroma.NewHTTPClient(chroma.WithBaseURL(plainURL), chroma.WithAuth(mode.good.goAuth()))
		require.NoError(t, err)
		_, err = untrusting.ListCollections(t.Context())
		require.Error(t, err, "the Go client over plain HTTP")
		_ = untrusting.Close()
	})
}

// runNodeUntrusting runs js/tls.mjs with no extra CA at all, whatever the
// environment of the test run holds.
func runNodeUntrusting(t *testing.T, g *gateway, out any) {
	t.Helper()
	cmd := nodeCommand(t.Context(), "js/tls.mjs", "GATEWAY_PORT="+strconv.Itoa(g.port))
	env := cmd.Env[:0:0]
	for _, kv := range cmd.Env {
		if !strings.HasPrefix(kv, "NODE_EXTRA_CA_CERTS=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	stdout, err := cmd.Output()
	require.NoError(t, err, "node js/tls.mjs: %s", stderrOf(err))
	require.NoError(t, json.Unmarshal(stdout, out), "node printed: %s", stdout)
}
