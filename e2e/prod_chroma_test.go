package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// ownChroma is a Chroma server of one test (not the suite's shared one),
// which the test may stop and start again on the same port and data: the
// private Chroma of core_helpers_test.go, without CORS.
type ownChroma struct{ *chromaInstance }

func startOwnChroma(t *testing.T) *ownChroma {
	t.Helper()
	return &ownChroma{startCoreChroma(t, "")}
}

// stop ends the server and waits until it is gone.
func (c *ownChroma) stop() {
	c.proc.stop()
	c.proc = nil
}

// direct is the oracle on this server for a tenant and database.
func (c *ownChroma) direct(t *testing.T, tenant, database string) *direct {
	return &direct{t: t, client: plainHTTPClient(), base: c.url + "/api/v2/tenants/" + tenant + "/databases/" + database}
}

// createTenantAndDatabase makes a tenant and one database on this server.
func (c *ownChroma) createTenantAndDatabase(t *testing.T, tenant, database string) {
	t.Helper()
	d := &direct{t: t, client: plainHTTPClient(), base: c.url + "/api/v2"}
	require.Equal(t, http.StatusOK, d.do(http.MethodPost, "/tenants", map[string]any{"name": tenant}, nil))
	require.Equal(t, http.StatusOK, d.do(http.MethodPost, "/tenants/"+tenant+"/databases", map[string]any{"name": database}, nil))
}
