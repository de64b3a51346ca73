package authz

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryUpdateTeachesARename (issue 20): any collection update through
// the gateway teaches it the new name, or, when the gateway did not read
// one (no new_name, or a body never read), that the name it knows must be
// looked up again before a grant judges by it.
func TestEveryUpdateTeachesARename(t *testing.T) {
	d := decide(t, nil, admin, "PUT", cp, `{"new_metadata":{"a":1}}`, nil)
	assert.Equal(t, Teach{RenameID: cid}, d.Teach, "an update without new_name")
	rt := ClassifyPath(http.MethodPut, req("PUT", cp, "").URL)
	require.True(t, rt.NeedsBody)
	d = Decide(context.Background(), nil, admin, &rt, nil)
	assert.Equal(t, Teach{RenameID: cid}, d.Teach, "an update whose body was not read")

	o := NewOwners(10)
	f := &fakeFetcher{owners: o, byID: true, colls: map[string]Owner{cid: {Tenant: "acme", Database: "prod", Name: "payroll"}}}
	o.Learn(cid, "acme", "prod", "team-x")
	v := NewResolver(o)
	o.Rename(cid, "")
	w, err := v.Resolve(context.Background(), f, "acme", "prod", cid, 0)
	require.NoError(t, err)
	assert.Equal(t, int32(0), f.byid.Load(), "a caller without grants needs no name: no lookup")
	assert.Equal(t, "acme", w.Tenant)
	w, err = v.Resolve(context.Background(), f, "acme", "prod", cid, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, int32(1), f.byid.Load(), "a caller with grants: the name is looked up again")
	assert.Equal(t, "payroll", w.Name)
}
