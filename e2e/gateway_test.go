package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// gateway is one running gateway process serving HTTPS on loopback with a
// certificate from Caddy's local CA.
type gateway struct {
	port   int
	url    string // https://localhost:<port>
	caRoot string // Caddy's local root certificate, what clients must trust
	proc   *process
}

// gatewayCaddyfile is the config every test gateway runs (its second verb
// takes extra server options, such as a header limit): the site of the
// test, HTTPS from Caddy's internal CA, its state in the test's own folder.
//   - skip_install_trust: never touch the machine's trust store; clients
//     trust the root by file, as the issue asks.
//   - auto_https disable_redirects: no HTTP listener on :80.
//   - admin off, persist_config off: nothing listens or is written beyond
//     the site and the storage folder.
//   - bind 127.0.0.1: loopback only.
const gatewayCaddyfile = `{
	admin off
	persist_config off
	skip_install_trust
	auto_https disable_redirects
	storage file_system %q
	servers {
		protocols h1 h2
		%s
	}
}

localhost:%d {
	bind 127.0.0.1
	tls internal
	%s
	reverse_proxy %s
}
`

// startGateway writes a Caddyfile with the given chroma_auth directive in
// front of the suite's Chroma, runs the gateway binary on it and waits
// until Chroma's heartbeat answers through it. The test's cleanup stops it.
func startGateway(t *testing.T, directive string) *gateway {
	t.Helper()
	return startGatewayWith(t, "", directive)
}

// gatewayRun says how to start a gateway process.
type gatewayRun struct {
	dir     string   // the test's folder: log, XDG folders
	config  string   // Caddyfile path
	port    int      // the HTTPS port the config serves on localhost
	storage string   // Caddy's storage folder: the CA root is under it
	cwd     string   // where relative paths in the config resolve
	env     []string // extra environment, for {$VAR} in the config
	// ready, when set, is the client that asks the heartbeat whether the
	// gateway is up (one with a client certificate, for a site that
	// requires one); by default one trusting the CA root.
	ready func(caRoot string) (*http.Client, error)
}

func runGateway(t *testing.T, r gatewayRun) *gateway {
	t.Helper()
	cmd := exec.Command(suite.gatewayBin, "run", "--config", r.config, "--adapter", "caddyfile")
	cmd.Dir = r.cwd
	// Keep Caddy's default data and config folders (autosave, certificates)
	// out of the user's home.
	cmd.Env = append(os.Environ(),
		"XDG_DATA_HOME="+filepath.Join(r.dir, "xdg-data"),
		"XDG_CONFIG_HOME="+filepath.Join(r.dir, "xdg-config"))
	cmd.Env = append(cmd.Env, r.env...)
	proc, err := startProcess("gateway", cmd, filepath.Join(r.dir, "gateway.log"))
	require.NoError(t, err)
	t.Cleanup(func() {
		proc.stop()
		if t.Failed() {
			t.Logf("gateway log:\n%s", proc.log())
		}
	})

	g := &gateway{
		port:   r.port,
		url:    "https://localhost:" + strconv.Itoa(r.port),
		caRoot: filepath.Join(r.storage, "pki", "authorities", "local", "root.crt"),
		proc:   proc,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, waitForFile(ctx, g.caRoot, proc), "Caddy's local CA root")
	newClient := trustingHTTPClient
	if r.ready != nil {
		newClient = r.ready
	}
	client, err := newClient(g.caRoot)
	require.NoError(t, err)
	_, err = waitFor(ctx, client, g.url+"/api/v2/heartbeat", proc)
	require.NoError(t, err)
	return g
}

// waitForFile waits until Caddy has written path (its CA root appears at
// the first start, before the site certificate is issued).
func waitForFile(ctx context.Context, path string, p *process) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if dead, err := p.exited(); dead {
			return fmt.Errorf("%s exited (%v) before writing %s; its log:\n%s", p.name, err, path, p.log())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not written in time; %s log:\n%s", path, p.name, p.log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
