package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The set-ups issue 3 asks examples/ to show, one Caddyfile each.
var wantExamples = []string{
	"basic.Caddyfile",          // Basic auth, htpasswd
	"token.Caddyfile",          // token in Authorization: Bearer
	"x-chroma-token.Caddyfile", // token in X-Chroma-Token
	"both.Caddyfile",           // Basic or token
	"public-domain.Caddyfile",  // a public domain with automatic HTTPS
	"demo.Caddyfile",           // what `make run` starts
}

// exampleEnv fills the {$VAR} and {env.VAR} placeholders of the examples,
// and keeps Caddy's data and the demo's state in dir.
func exampleEnv(dir string) []string {
	return append(os.Environ(),
		"CHROMA_TOKEN=example-"+randomHex(8),
		"CHROMA_DOMAIN=chroma.example.com",
		"ACME_EMAIL=ops@example.com",
		"CHROMA_DEMO_STATE="+filepath.Join(dir, "demo-state"),
		"XDG_DATA_HOME="+filepath.Join(dir, "xdg-data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "xdg-config"))
}

// TestExampleCaddyfiles adapts and validates (which provisions every
// module, so chroma_auth loads its credential files) each examples/
// Caddyfile with the gateway binary, from the repository root as the
// examples say.
func TestExampleCaddyfiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(suite.repoRoot, "examples", "*Caddyfile"))
	require.NoError(t, err)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	require.Subset(t, names, wantExamples)

	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			env := exampleEnv(t.TempDir())
			rel, err := filepath.Rel(suite.repoRoot, file)
			require.NoError(t, err)

			out, warnings, err := caddyAdapt(t, env, rel)
			require.NoError(t, err, "caddy adapt: %s%s", out, warnings)
			var cfg any
			require.NoError(t, json.Unmarshal(out, &cfg), "caddy adapt printed: %s", out)
			assert.Contains(t, string(out), `"handler":"chroma_auth"`)
			assert.Contains(t, string(out), `"handler":"reverse_proxy"`)
			assert.NotContains(t, string(warnings), "not formatted", "run caddy fmt --overwrite on it")

			out, err = caddyCommand(t, env, "validate", "--config", rel)
			require.NoError(t, err, "caddy validate: %s", out)
			assert.Contains(t, string(out), "Valid configuration")
		})
	}

	t.Run("an empty CHROMA_TOKEN does not start open", func(t *testing.T) {
		env := append(exampleEnv(t.TempDir()), "CHROMA_TOKEN=")
		out, err := caddyCommand(t, env, "validate", "--config", filepath.Join("examples", "x-chroma-token.Caddyfile"))
		require.Error(t, err, "caddy validate must fail: %s", out)
		assert.NotContains(t, string(out), "Valid configuration")
	})
}

// caddyCommand runs the gateway binary with args in the repository root.
func caddyCommand(t *testing.T, env []string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.gatewayBin, args...)
	cmd.Dir = suite.repoRoot
	cmd.Env = env
	return cmd.CombinedOutput()
}

// caddyAdapt runs `caddy adapt`: the JSON on stdout, warnings on stderr.
func caddyAdapt(t *testing.T, env []string, config string) (stdout, stderr []byte, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.gatewayBin, "adapt", "--config", config)
	cmd.Dir = suite.repoRoot
	cmd.Env = env
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	stdout, err = cmd.Output()
	return stdout, errBuf.Bytes(), err
}

// demoToken is the first token of examples/tokens.txt.
func demoToken(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(suite.repoRoot, "examples", "tokens.txt"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	t.Fatal("examples/tokens.txt has no token")
	return ""
}
