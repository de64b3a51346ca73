package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// composeFile is the part of examples/docker-compose.yml the test checks.
type composeFile struct {
	Services map[string]struct {
		Image string `yaml:"image"`
		Build struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		WorkingDir  string            `yaml:"working_dir"`
		Volumes     []string          `yaml:"volumes"`
		Command     []string          `yaml:"command"`
	} `yaml:"services"`
}

// TestDockerCompose checks what can be checked of the compose example
// without a Docker engine (none runs here): the gateway image builds this
// repository with xcaddy, its Caddyfile and credential files are where the
// container looks for them, and Chroma is reachable only through it.
func TestDockerCompose(t *testing.T) {
	examples := filepath.Join(suite.repoRoot, "examples")
	raw, err := os.ReadFile(filepath.Join(examples, "docker-compose.yml"))
	require.NoError(t, err)
	var c composeFile
	require.NoError(t, yaml.Unmarshal(raw, &c))

	chroma, ok := c.Services["chroma"]
	require.True(t, ok, "a chroma service")
	assert.True(t, strings.HasPrefix(chroma.Image, "chromadb/chroma:"), chroma.Image)
	assert.Empty(t, chroma.Ports, "Chroma has no auth of its own: it must not publish a port")

	gw, ok := c.Services["gateway"]
	require.True(t, ok, "a gateway service")
	assert.Equal(t, "chroma:8000", gw.Environment["CHROMA_UPSTREAM"], "Chroma's service name and port")
	assert.Subset(t, gw.Ports, []string{"80:80", "443:443"}, "automatic HTTPS needs 80 and 443")

	// The image: built from the repository root with xcaddy.
	buildContext := filepath.Join(examples, gw.Build.Context)
	_, err = os.Stat(filepath.Join(buildContext, "go.mod"))
	require.NoError(t, err, "the build context is the plugin's module")
	dockerfile, err := os.ReadFile(filepath.Join(buildContext, gw.Build.Dockerfile))
	require.NoError(t, err)
	assert.Contains(t, string(dockerfile), "xcaddy build --with github.com/caddy-chroma-auth/caddy-chroma-auth=")

	// The Caddyfile and the files it names, seen from inside the container.
	mounts := map[string]string{} // container path -> host path
	for _, v := range gw.Volumes {
		parts := strings.Split(v, ":")
		if strings.HasPrefix(parts[0], ".") {
			mounts[parts[1]] = filepath.Join(examples, parts[0])
		}
	}
	hostPath := func(p string) string {
		if !filepath.IsAbs(p) {
			p = filepath.Join(gw.WorkingDir, p)
		}
		for in, host := range mounts {
			if rel, err := filepath.Rel(in, p); err == nil && !strings.HasPrefix(rel, "..") {
				return filepath.Join(host, rel)
			}
		}
		t.Fatalf("%s is not in a mounted folder of the gateway", p)
		return ""
	}
	config := ""
	for i, arg := range gw.Command {
		if arg == "--config" && i+1 < len(gw.Command) {
			config = gw.Command[i+1]
		}
	}
	require.NotEmpty(t, config, "the gateway runs with --config")
	caddyfile := hostPath(config)
	assert.Equal(t, "public-domain.Caddyfile", filepath.Base(caddyfile))
	for _, file := range []string{"examples/server.htpasswd", "examples/tokens.txt"} {
		_, err := os.Stat(hostPath(file))
		assert.NoError(t, err, "%s, named in %s", file, filepath.Base(caddyfile))
	}
	text, err := os.ReadFile(caddyfile)
	require.NoError(t, err)
	assert.Contains(t, string(text), "basic examples/server.htpasswd")
	assert.Contains(t, string(text), "token_file examples/tokens.txt")
}
