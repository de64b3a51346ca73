package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ownChroma is a Chroma server of one test (not the suite's shared one),
// which the test may stop and start again on the same port and data.
type ownChroma struct {
	dir, data string
	port      int
	addr, url string
	proc      *process
	starts    int
}

func startOwnChroma(t *testing.T) *ownChroma {
	t.Helper()
	port, err := freePort()
	require.NoError(t, err)
	dir := t.TempDir()
	c := &ownChroma{dir: dir, data: filepath.Join(dir, "data"), port: port}
	c.addr = "127.0.0.1:" + strconv.Itoa(port)
	c.url = "http://" + c.addr
	c.start(t)
	t.Cleanup(func() {
		if c.proc != nil {
			c.proc.stop()
		}
	})
	return c
}

// start runs `chroma run` on the server's port and data folder and waits
// for its heartbeat.
func (c *ownChroma) start(t *testing.T) {
	t.Helper()
	c.starts++
	cli := filepath.Join(suite.e2eDir, "node_modules", ".bin", "chroma")
	cmd := exec.Command(cli, "run", "--path", c.data, "--host", "127.0.0.1", "--port", strconv.Itoa(c.port))
	cmd.Dir = c.dir
	proc, err := startProcess("chroma (own)", cmd, filepath.Join(c.dir, "chroma-"+strconv.Itoa(c.starts)+".log"))
	require.NoError(t, err)
	c.proc = proc
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, err = waitFor(ctx, plainHTTPClient(), c.url+"/api/v2/heartbeat", proc)
	require.NoError(t, err)
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
