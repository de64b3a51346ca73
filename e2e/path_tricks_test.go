package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPathTricksReachNothing sends, without credentials, variants of the
// public heartbeat path that a lenient router could resolve to a protected
// route, through the gateway to the real Chroma: every one must be
// refused, and none may return the collection list. curl sends each path
// byte for byte (--path-as-is).
func TestPathTricksReachNothing(t *testing.T) {
	mode := suite.creds.modes()[0]
	g := startGateway(t, mode.directive)
	oracle := chromaDirect(t)
	secret := uniqueName("secret")
	secretID := oracle.createCollection(secret, map[string][]float32{"a": {1, 0, 0}})
	t.Cleanup(func() { oracle.deleteCollection(secret) })

	const list = "tenants/default_tenant/databases/default_database/collections"
	tricks := []string{
		"/api/v2/heartbeat/../" + list,
		"/api/v2/heartbeat/%2e%2e/" + list,
		"/api/v2/heartbeat/%2E%2E/" + list,
		"/api/v2/heartbeat%2f..%2f" + list,
		"/api/v2/heartbeat;/../" + list,
		"/api/v2/./" + list,
		"//api/v2/" + list,
		"/api/v2//" + list,
		"/api/v2%2f" + strings.ReplaceAll(list, "/", "%2f"),
		"/api/v2/" + list + "/",
		"/api/v2/" + list + "?",
		"/API/v2/" + list,
		"/api/v2/heartbeat/",
		"/api/v2/heartbeat/.",
		"/api/v2/heartbeat%00",
		"/openapi.json",
		"/docs",
	}
	for _, path := range tricks {
		status, body := curl(t, g, credential{}, http.MethodGet, path, nil, "--path-as-is")
		assert.Equal(t, http.StatusUnauthorized, status, "%s: %s", path, short(body))
		assert.NotContains(t, string(body), secret, path)
		assert.NotContains(t, string(body), secretID, path)
	}

	// The control: with credentials the plain path does list it, so the
	// checks above would see a leak.
	status, body := curl(t, g, mode.good, http.MethodGet, "/api/v2/"+list, nil)
	require.Equal(t, http.StatusOK, status, "%s", short(body))
	assert.Contains(t, string(body), secretID)
}
