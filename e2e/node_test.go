package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ensureNodeModules installs the npm packages from package-lock.json when
// e2e/node_modules is missing. Node and npm are required: without them the
// suite fails, it never skips.
func ensureNodeModules(e2eDir string) error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not on PATH: the end-to-end tests need Node.js 20+ and npm "+
				"(the real Chroma server and JS client come from npm; on Debian: apt-get install nodejs npm)", tool)
		}
	}
	_, errChroma := os.Stat(filepath.Join(e2eDir, "node_modules", ".bin", "chroma"))
	_, errOIDC := os.Stat(filepath.Join(e2eDir, "node_modules", "oidc-provider", "package.json")) // jwt_test.go
	if errChroma == nil && errOIDC == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = e2eDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", e2eDir, err, out)
	}
	return nil
}

// nodeCommand runs one of the JS client scripts in e2e/js with node. The
// scripts import "chromadb" from e2e/node_modules.
func nodeCommand(ctx context.Context, script string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = suite.e2eDir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// nodeVersionOK makes an old Node fail with a clear message rather than a
// syntax error from inside the chromadb package.
func nodeVersionOK() error {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return fmt.Errorf("node --version: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	var major int
	if _, err := fmt.Sscanf(v, "%d", &major); err != nil || major < 20 {
		return fmt.Errorf("node %s is too old: chromadb 3.5 needs Node.js 20 or newer", v)
	}
	return nil
}

// stderrOf returns what a failed command printed on stderr, if exec kept it.
func stderrOf(err error) string {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return string(exitErr.Stderr)
	}
	return ""
}
