package chromaauth

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddyserver/caddy/v2"
)

// TestCaddyfileExample adapts the README's Caddyfile.example and
// provisions every module of it (caddy validate), without listening.
func TestCaddyfileExample(t *testing.T) {
	data, err := os.ReadFile("Caddyfile.example")
	require.NoError(t, err)
	t.Setenv("CHROMA_TOKEN", "example-token-for-the-test")
	cfgJSON, err := adapt(string(data))
	require.NoError(t, err)
	var cfg caddy.Config
	require.NoError(t, json.Unmarshal(cfgJSON, &cfg))
	require.NoError(t, caddy.Validate(&cfg))
	assert.Contains(t, string(cfgJSON), `"handler":"chroma_auth"`)

	t.Setenv("CHROMA_TOKEN", "")
	var again caddy.Config // Validate consumes the raw module configs
	require.NoError(t, json.Unmarshal(cfgJSON, &again))
	err = caddy.Validate(&again)
	require.Error(t, err, "an unset CHROMA_TOKEN must not start the gateway open")
	assert.Contains(t, err.Error(), "empty token")
}
