package cli

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProvisionLogWarnings(t *testing.T) {
	assert.Empty(t, ProvisionLogWarnings(LogSetup{Authorization: true}), "Caddy hides Authorization by itself")
	// Any client may send X-Chroma-Token: an access log needs the filter
	// whatever token_header says.
	w := ProvisionLogWarnings(LogSetup{Authorization: true, AccessLog: true})
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "any client may send X-Chroma-Token, whatever token_header says")
	assert.Contains(t, w[0], "request>headers>X-Chroma-Token delete")
	w = ProvisionLogWarnings(LogSetup{XChromaToken: true})
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "error log")
	assert.NotContains(t, w[0], "access log")
	assert.Contains(t, w[0], "`format filter` block with the line `request>headers>X-Chroma-Token delete`")
	w = ProvisionLogWarnings(LogSetup{XChromaToken: true, AccessLog: true})
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "access log")
	w = ProvisionLogWarnings(LogSetup{XChromaToken: true, Authorization: true, AccessLog: true, LogCredentials: true})
	require.Len(t, w, 2)
	assert.Contains(t, w[1], "log_credentials")
	assert.Contains(t, w[1], "request>headers>Authorization delete")
}
