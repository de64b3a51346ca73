package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// An issued credential whose rows lack the user's, or give one of its
// keys another value, reaches beyond its user (least.go:147): `key create`
// refuses it, the load warns.
func TestWiderRows(t *testing.T) {
	user := &Identity{User: "u", Tenant: Any, Databases: []string{Any}, Rows: map[string]string{"owner": "u"}}
	want := []string{`rows without the user's owner="u"`}
	assert.Equal(t, want, Wider(&Identity{User: "u", Tenant: Any, Databases: []string{Any}}, user), "no rows")
	assert.Equal(t, want, Wider(&Identity{User: "u", Tenant: Any, Databases: []string{Any}, Rows: map[string]string{"owner": "v"}}, user), "another value")
	assert.Empty(t, Wider(&Identity{User: "u", Tenant: Any, Databases: []string{Any}, Rows: map[string]string{"owner": "u", "team": "x"}}, user), "narrower")
}
