package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoPythonUse is what the test does with the client `make run` prints:
// the tutorial's first steps.
const demoPythonUse = `
print("heartbeat:", client.heartbeat() > 0)
col = client.create_collection("py-demo", embedding_function=None)
col.add(ids=["a", "b"], embeddings=[[1, 0], [0, 1]])
print("count:", col.count())
client.delete_collection("py-demo")
print("deleted:", "py-demo" not in [c.name for c in client.list_collections()])
`

// checkPrintedPython runs the Python settings `make run` prints, as
// printed, with chromadb 1.5.9 (e2e/.venv-1.5), then with a wrong password:
// they work against the demo, and need their credentials.
func checkPrintedPython(ctx context.Context, t *testing.T, out string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  Python \(pip install chromadb==1\.5\.9.*\n((?: {4,}\S.*\n)+)`).FindStringSubmatch(out)
	require.Len(t, m, 2, "Python settings after 'Python (pip install chromadb==1.5.9'")
	var code strings.Builder
	for _, line := range strings.Split(strings.TrimRight(m[1], "\n"), "\n") {
		code.WriteString(strings.TrimPrefix(line, "    ") + "\n")
	}
	assert.Contains(t, code.String(), "chroma_server_ssl_verify=")
	python := filepath.Join(suite.e2eDir, ".venv-1.5", "bin", "python")
	run := func(src string) (string, error) {
		c := exec.CommandContext(ctx, python, "-c", src)
		c.Env = append(newcomerEnv(), "ANONYMIZED_TELEMETRY=False", "HOME="+t.TempDir())
		got, err := c.CombinedOutput()
		return string(got), err
	}
	got, err := run(code.String() + demoPythonUse)
	require.NoError(t, err, "the printed Python settings:\n%s\n%s", code.String(), got)
	assert.Equal(t, "heartbeat: True\ncount: 2\ndeleted: True\n", got)

	wrong := strings.Replace(code.String(), `"admin:admin:secret"`, `"admin:wrong"`, 1)
	require.NotEqual(t, code.String(), wrong, "the printed settings hold the demo password")
	got, err = run(wrong + "client.list_collections()\n")
	require.Error(t, err, "with a wrong password: %s", got)
	assert.Contains(t, got, "Unauthorized")
}
