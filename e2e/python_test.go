package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ensurePythonVenvs installs the pinned Python packages (chromadb 1.5.9 in
// .venv-1.5, chromadb 0.6.3 in .venv-0.6) with ../scripts/py-deps.sh,
// which does nothing when both already hold their freeze file's install.
func ensurePythonVenvs(e2eDir string) error {
	if _, err := exec.LookPath("python3"); err != nil {
		return fmt.Errorf("python3 is not on PATH: the end-to-end tests need Python 3.9+ with venv " +
			"(Chroma 1.5.9 and the Python client come from PyPI; on Debian: apt-get install python3 python3-venv)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(filepath.Dir(e2eDir), "scripts", "py-deps.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("scripts/py-deps.sh: %v\n%s", err, out)
	}
	return nil
}

// eachChroma runs f as one subtest against each Chroma server of the
// suite: 1.5.9 (PyPI) and 1.0.x (npm). For the subtest's time the suite's
// default upstream (suite.chroma, which startGateway and the direct
// helpers use) is that server; the suite's tests run one after another
// (none calls t.Parallel), so no other test sees the switch.
func eachChroma(t *testing.T, f func(t *testing.T, c *chromaServer)) {
	for _, c := range []*chromaServer{suite.chromaPyPI, suite.chromaNPM} {
		t.Run(c.name, func(t *testing.T) {
			prev := suite.chroma
			suite.chroma = c
			defer func() { suite.chroma = prev }()
			f(t, c)
		})
	}
}

// runPyScript runs e2e/python/<script> with the chromadb 1.5.9 venv's
// interpreter (against gateway g, trusting its CA, when g is not nil) and
// decodes the one JSON object it prints into out.
func runPyScript(t *testing.T, timeout time.Duration, g *gateway, script string, out any, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(suite.e2eDir, ".venv-1.5", "bin", "python"), filepath.Join("python", script))
	cmd.Dir = suite.e2eDir
	cmd.Env = append(os.Environ(), "ANONYMIZED_TELEMETRY=False", "HOME="+t.TempDir())
	if g != nil {
		cmd.Env = append(cmd.Env, "CHROMA_HOST=localhost", "CHROMA_PORT="+strconv.Itoa(g.port), "CHROMA_CA="+g.caRoot)
	}
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.Output()
	require.NoError(t, err, "%s: %s\n%s", script, stdout, stderrOf(err))
	require.NoError(t, json.Unmarshal(stdout, out), "%s printed: %s", script, stdout)
}
