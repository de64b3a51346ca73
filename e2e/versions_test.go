package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADMENamesTestedVersions: the README's client section names the
// versions the tests install (the freeze files and package-lock.json).
func TestREADMENamesTestedVersions(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(suite.repoRoot, "README.md"))
	require.NoError(t, err)
	pin := regexp.MustCompile(`(?m)^chromadb==(\S+)$`)
	for _, f := range []string{"requirements-1.5.txt", "requirements-0.6.txt"} {
		req, err := os.ReadFile(filepath.Join(suite.e2eDir, "python", f))
		require.NoError(t, err)
		m := pin.FindSubmatch(req)
		require.NotNil(t, m, f)
		assert.Contains(t, string(readme), "Chroma "+string(m[1]), "%s pins chromadb %s", f, m[1])
	}
	lock, err := os.ReadFile(filepath.Join(suite.e2eDir, "package-lock.json"))
	require.NoError(t, err)
	var l struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	require.NoError(t, json.Unmarshal(lock, &l))
	js := l.Packages["node_modules/chromadb"].Version
	require.NotEmpty(t, js)
	assert.Contains(t, string(readme), "`chromadb` "+js)
	assert.Contains(t, string(readme), "Python client `chromadb` 1.5.9")
}
