package authz

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Learn keeps nothing of an owner without a tenant or a database (or of an
// id that is no UUID): such a record would answer for the id later, and
// refuse it in its real database (owners.go:53).
func TestLearnIgnoresPartialOwners(t *testing.T) {
	const id = "0b7e5c3a-9f6d-4f1e-8a2b-3c4d5e6f7a8b"
	o := NewOwners(10)
	o.Learn(id, "", "prod", "docs")
	o.Learn(id, "acme", "", "docs")
	o.Learn(id, "", "", "docs")
	o.Learn("not-a-uuid", "acme", "prod", "docs")
	assert.False(t, o.Known(id))
	_, err := o.CheckID(id, "acme", "prod")
	assert.ErrorIs(t, err, ErrOwnerUnknown, "still unknown: looked up, not refused")
	o.Learn(id, "acme", "prod", "docs")
	w, err := o.CheckID(id, "acme", "prod")
	assert.NoError(t, err)
	assert.Equal(t, "docs", w.Name)
}
