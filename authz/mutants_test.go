package authz

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Tests for the mutants `make mutants` found surviving whose change is a
// security decision (issue 20; mutants/REPORT.md).

// CheckGrants: a caller without grants is never refused by them, on any
// route (the early return for it, grants.go:61); and a caller with grants
// reads its databases through the v1 API too, only the v1 listing and
// count being refused (grants.go:65).
func TestCheckGrantsMutants(t *testing.T) {
	scoped := &providers.Identity{User: "u", Tenant: "acme", Databases: []string{"prod"}}
	for _, c := range []struct{ method, path, body string }{
		{"POST", tp + "/databases", `{"name":"dev"}`},
		{"DELETE", tp + "/databases/prod", ""},
		{"POST", "/api/v2/reset", ""},
		{"GET", "/api/v1/collections?tenant=acme&database=prod", ""},
		{"GET", tp + "/collections/docs", ""},
	} {
		rt := classify(t, c.method, c.path, c.body)
		assert.NoError(t, CheckGrants(scoped, rt), "%s %s: no grants, no refusal by them", c.method, c.path)
	}

	bot := botIdentity(t)
	rt := classify(t, "GET", "/api/v1/databases/prod?tenant=acme", "")
	require.Equal(t, ActionGetDatabase, rt.Action)
	assert.NoError(t, CheckGrants(bot, rt), "v1 get_database is a database read")
	rt = classify(t, "GET", "/api/v1/tenants/acme", "")
	assert.NoError(t, CheckGrants(bot, rt), "v1 get_tenant is a database read")
	for _, p := range []string{"/api/v1/collections?tenant=acme&database=prod", "/api/v1/count_collections?tenant=acme&database=prod"} {
		rt = classify(t, "GET", p, "")
		assert.Error(t, CheckGrants(bot, rt), "%s cannot be filtered", p)
	}
	for _, p := range []string{tp + "/collections", tp + "/collections_count"} {
		rt = classify(t, "GET", p, "")
		assert.NoError(t, CheckGrants(bot, rt), "%s is filtered, not refused", p)
	}
}

// Resolver.list records a good listing (resolve.go:153): made-up ids asked
// one after another within Relist do not each cost a listing; they wait.
func TestResolverRelistBoundHoldsForSequentialMadeUpIDs(t *testing.T) {
	o := NewOwners(100)
	f := &fakeFetcher{owners: o, colls: map[string]Owner{cid: {Tenant: "acme", Database: "prod", Name: "docs"}}}
	v := NewResolver(o)
	v.Relist = time.Hour
	_, err := v.Resolve(context.Background(), f, "acme", "prod", cid, 0)
	require.NoError(t, err)
	require.Equal(t, int32(1), f.lists.Load())
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := v.Resolve(ctx, f, "acme", "prod", "11111111-2222-4333-8444-55555555555"+string(rune('0'+i)), 0)
		cancel()
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "made-up id %d waits for the relist interval: %v", i, err)
	}
	assert.Equal(t, int32(1), f.lists.Load(), "no listing within the relist interval")
}
