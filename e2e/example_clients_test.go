package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExampleClients runs the client snippets of examples/clients that can
// run here (JS, Go, curl; Python needs PyPI) against the demo Caddyfile
// itself, with the demo credentials, as a user following the README would.
func TestExampleClients(t *testing.T) {
	dir := t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	state := filepath.Join(dir, "demo-state")
	g := runGateway(t, gatewayRun{
		dir:     dir,
		config:  filepath.Join("examples", "demo.Caddyfile"),
		port:    port,
		storage: filepath.Join(state, "caddy"),
		cwd:     suite.repoRoot,
		env: []string{
			"CHROMA_GATEWAY_PORT=" + strconv.Itoa(port),
			"CHROMA_UPSTREAM=" + suite.chroma.addr,
			"CHROMA_DEMO_STATE=" + state,
		},
	})

	creds := map[string][]string{
		"basic":          {"CHROMA_USER=admin", "CHROMA_PASSWORD=admin:secret"},
		"bearer":         {"CHROMA_TOKEN=" + demoToken(t)},
		"wrong password": {"CHROMA_USER=admin", "CHROMA_PASSWORD=admin:wrong"},
	}
	snippets := map[string]func(t *testing.T, env []string) ([]byte, error){
		"js":   runJSSnippet,
		"go":   goSnippetRunner(t),
		"curl": runCurlSnippet,
	}
	for snippet, run := range snippets {
		for credName, credEnv := range creds {
			t.Run(snippet+"/"+credName, func(t *testing.T) {
				oracle := chromaDirect(t)
				name := uniqueName("snippet-" + snippet)
				t.Cleanup(func() { oracle.deleteCollection(name) })
				env := append([]string{
					"CHROMA_URL=" + g.url,
					"CHROMA_CA_CERT=" + g.caRoot,
					"NODE_EXTRA_CA_CERTS=" + g.caRoot,
					"CHROMA_COLLECTION=" + name,
				}, credEnv...)

				out, err := run(t, env)
				if credName == "wrong password" {
					require.Error(t, err, "the snippet must fail: %s", out)
					assert.Regexp(t, `401|Unauthorized|AuthorizationError|ChromaAuthError`, string(out))
					assert.Empty(t, oracle.collectionID(name), "nothing was created")
					return
				}
				require.NoError(t, err, "%s", out)
				assert.Contains(t, string(out), suite.chroma.version, "version line")
				assert.Contains(t, string(out), "nearest: cats")
				assert.Contains(t, string(out), "count: 2")
				assert.Contains(t, string(out), "deleted: "+name)
				assert.Empty(t, oracle.collectionID(name), "the snippet deleted its collection")
			})
		}
	}
}

func snippetContext(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), 90*time.Second)
}

// runJSSnippet runs examples/clients/js/client.mjs. Node resolves
// "chromadb" from the script's own folder, so it runs from a copy under
// e2e/.data (git-ignored), next to e2e/node_modules.
func runJSSnippet(t *testing.T, env []string) ([]byte, error) {
	src, err := os.ReadFile(filepath.Join(suite.repoRoot, "examples", "clients", "js", "client.mjs"))
	require.NoError(t, err)
	dataDir := filepath.Join(suite.e2eDir, ".data")
	require.NoError(t, os.MkdirAll(dataDir, 0o755))
	dir, err := os.MkdirTemp(dataDir, "js-snippet-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	script := filepath.Join(dir, "client.mjs")
	require.NoError(t, os.WriteFile(script, src, 0o644))

	ctx, cancel := snippetContext(t)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

// goSnippetRunner builds examples/clients/go (a module of its own) once and
// returns a runner of the binary.
func goSnippetRunner(t *testing.T) func(t *testing.T, env []string) ([]byte, error) {
	bin := filepath.Join(t.TempDir(), "goclient")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = filepath.Join(suite.repoRoot, "examples", "clients", "go")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build examples/clients/go: %s", out)
	return func(t *testing.T, env []string) ([]byte, error) {
		ctx, cancel := snippetContext(t)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(os.Environ(), env...)
		return cmd.CombinedOutput()
	}
}

// runCurlSnippet runs examples/clients/curl.sh with bash.
func runCurlSnippet(t *testing.T, env []string) ([]byte, error) {
	ctx, cancel := snippetContext(t)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(suite.repoRoot, "examples", "clients", "curl.sh"))
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}
