package authz

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// A collection id the caller may not see is refused with the same reason
// as an id that is not in the path's database: the answer must not tell
// whether a hidden collection exists.
func TestCheckGrantsOwnerNoExistenceOracle(t *testing.T) {
	const hiddenID = "5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77"
	const otherID = "6a2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77"
	g, err := providers.NewGrants(map[string]string{"docs": "read"})
	require.NoError(t, err)
	id := &providers.Identity{User: "u", Tenant: "acme", Databases: []string{"prod"}, Collections: g}
	rt := Route{Action: ActionCount, Tenant: "acme", Database: "prod", Collection: hiddenID, CollectionByID: true}

	hidden := CheckGrantsOwner(id, rt, hiddenID, Owner{Tenant: "acme", Database: "prod", Name: "secret"}, false)
	owners := NewOwners(10)
	owners.Learn(otherID, "acme", "dev", "x")
	_, elsewhere := owners.CheckID(otherID, "acme", "prod")

	var d1, d2 *Denied
	require.True(t, errors.As(hidden, &d1), "%v", hidden)
	require.True(t, errors.As(elsewhere, &d2), "%v", elsewhere)
	assert.Equal(t, d2.Reason, strings.ReplaceAll(d1.Reason, hiddenID, otherID))
	assert.Contains(t, d1.Detail, "secret", "the log still learns the name")
	assert.NotContains(t, d1.Reason, "secret")

	// A collection the caller sees, with too low a level, says what is missing.
	rt.Action = ActionAdd
	low := CheckGrantsOwner(id, rt, hiddenID, Owner{Tenant: "acme", Database: "prod", Name: "docs"}, false)
	require.Error(t, low)
	assert.Contains(t, low.Error(), "needs write access")
}
