package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exitStatus runs the built binary with args (stdin given) and returns
// its exit status and output.
func exitStatus(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.gatewayBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	require.NoError(t, err, "%s", out)
	return 0, string(out)
}

// TestCLIExitStatuses: the README's exit statuses, from the binary as
// operators run it: `htpasswd verify` exits 0 on the right password and 1
// on a wrong one (or an unknown user); `check` exits 0 on a good config
// and 1 when something is wrong.
func TestCLIExitStatuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.htpasswd")
	code, out := exitStatus(t, "s3cret-pw\n", "chroma-auth", "htpasswd", "add", "--file", file, "--user", "alice", "--cost", "4")
	require.Equal(t, 0, code, out)

	code, out = exitStatus(t, "s3cret-pw\n", "chroma-auth", "htpasswd", "verify", "--file", file, "--user", "alice")
	assert.Equal(t, 0, code, "verify, right password: %s", out)
	code, out = exitStatus(t, "wrong\n", "chroma-auth", "htpasswd", "verify", "--file", file, "--user", "alice")
	assert.Equal(t, 1, code, "verify, wrong password: %s", out)
	code, out = exitStatus(t, "s3cret-pw\n", "chroma-auth", "htpasswd", "verify", "--file", file, "--user", "nobody")
	assert.Equal(t, 1, code, "verify, unknown user: %s", out)

	good := filepath.Join(dir, "Caddyfile")
	require.NoError(t, os.WriteFile(good, []byte("http://127.0.0.1:9 {\n\tchroma_auth basic "+file+"\n\treverse_proxy 127.0.0.1:8000\n}\n"), 0o600))
	code, out = exitStatus(t, "", "chroma-auth", "check", "--config", good)
	assert.Equal(t, 0, code, "check, good config: %s", out)

	md5 := filepath.Join(dir, "md5.htpasswd")
	require.NoError(t, os.WriteFile(md5, []byte("bob:$apr1$abc$defghijklmnopqrstuvwx\n"), 0o600))
	bad := filepath.Join(dir, "Caddyfile.bad")
	require.NoError(t, os.WriteFile(bad, []byte("http://127.0.0.1:9 {\n\tchroma_auth basic "+md5+"\n\treverse_proxy 127.0.0.1:8000\n}\n"), 0o600))
	code, out = exitStatus(t, "", "chroma-auth", "check", "--config", bad)
	assert.Equal(t, 1, code, "check, a broken htpasswd file: %s", out)
	assert.Contains(t, out, "use htpasswd -B")
}
