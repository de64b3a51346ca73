package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Of two globs that give a name the same level, Match names the first in
// order, whatever order the map gave them in (grants.go:92: explain and
// the audit name that grant); Len counts exact names and globs, none for
// nil grants (grants.go:148).
func TestGrantsMatchOrderAndLen(t *testing.T) {
	for range 20 { // map order varies from run to run
		g, err := NewGrants(map[string]string{"team-*": "read", "t*": "read", "te?m-a": "read", "docs": "write", "zz*": "admin"})
		require.NoError(t, err)
		pattern, level := g.Match("team-a")
		assert.Equal(t, "t*", pattern)
		assert.Equal(t, LevelRead, level)
		assert.Equal(t, 5, g.Len())
	}
	var none *Grants
	assert.Zero(t, none.Len())
	assert.Nil(t, none.Map())
}
