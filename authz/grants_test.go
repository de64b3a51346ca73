package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func botIdentity(t *testing.T) *providers.Identity {
	g, err := providers.NewGrants(map[string]string{"docs": "read", "team-*": "write", "bot-*": "admin"})
	require.NoError(t, err)
	return &providers.Identity{User: "bot", Tenant: "acme", Databases: []string{"prod"}, Collections: g}
}

func TestCheckGrantsByName(t *testing.T) {
	id := botIdentity(t)
	c := func(name string) string { return tp + "/collections/" + name }
	cases := []struct {
		method, path, body string
		ok                 bool
	}{
		{"GET", c("docs"), "", true},
		{"GET", c("billing"), "", false},
		{"DELETE", c("docs"), "", false},
		{"DELETE", c("team-a"), "", false},
		{"DELETE", c("bot-a"), "", true},
		{"POST", tp + "/collections", `{"name":"bot-new"}`, true},
		{"POST", tp + "/collections", `{"name":"team-new"}`, false},
		{"POST", tp + "/collections", `{"name":"bot-x","get_or_create":true}`, true},
		{"POST", tp + "/collections", `{"name":"docs","get_or_create":true}`, false},
		{"GET", tp + "/collections", "", true},
		{"GET", tp + "/collections_count", "", true},
		{"GET", tp, "", true},
		{"DELETE", tp, "", false},
		{"POST", "/api/v2/tenants/acme/databases", `{"name":"x"}`, false},
		{"POST", "/api/v2/reset", "", false},
		{"GET", "/api/v2/collections/acme:prod:docs", "", true},
		{"GET", "/api/v2/collections/acme:prod:billing", "", false},
		{"GET", "/api/v1/collections/docs?tenant=acme&database=prod", "", true},
		{"GET", "/api/v1/collections?tenant=acme&database=prod", "", false},
		// names in bodies of by-id routes: checked now; the id once resolved
		{"PUT", cp, `{"new_name":"bot-renamed"}`, true},
		{"PUT", cp, `{"new_name":"docs"}`, false},
		{"POST", cp + "/fork", `{"new_name":"billing-copy"}`, false},
		{"POST", cp + "/fork", `{"new_name":"bot-copy"}`, true},
		{"POST", cp + "/functions/attach", `{"name":"f","function_id":"x","output_collection":"docs"}`, false},
	}
	for _, tc := range cases {
		err := CheckGrants(id, classify(t, tc.method, tc.path, tc.body))
		if tc.ok {
			assert.NoError(t, err, "%s %s %s", tc.method, tc.path, tc.body)
		} else {
			var d *Denied
			assert.ErrorAs(t, err, &d, "%s %s %s", tc.method, tc.path, tc.body)
		}
	}
	// No grants: everything a scope allows.
	assert.NoError(t, CheckGrants(acmeProd, classify(t, "DELETE", c("billing"), "")))
	// Filtered listings are for restricted callers only.
	assert.True(t, Filtered(id, classify(t, "GET", tp+"/collections", "")))
	assert.False(t, Filtered(acmeProd, classify(t, "GET", tp+"/collections", "")))
}

func TestCheckGrantsOwner(t *testing.T) {
	id := botIdentity(t)
	at := func(method, path, body, name string, inBody bool) error {
		return CheckGrantsOwner(id, classify(t, method, path, body), cid, Owner{Tenant: "acme", Database: "prod", Name: name}, inBody)
	}
	assert.NoError(t, at("POST", cp+"/query", "{}", "docs", false))
	assert.Error(t, at("POST", cp+"/add", "{}", "docs", false), "read is not write")
	assert.NoError(t, at("POST", cp+"/add", "{}", "team-a", false))
	assert.Error(t, at("PUT", cp, `{"new_name":"bot-b"}`, "team-a", false), "a rename needs admin on the old name too")
	assert.Error(t, at("POST", cp+"/conditional/commit", `{"operations":[{"operation":"add"}]}`, "docs", false))
	assert.NoError(t, at("POST", cp+"/conditional/commit", `{"operations":[]}`, "docs", false), "an empty commit is a read")
	assert.NoError(t, at("POST", cp+"/attached_functions/f/add_input", `{"input_collection_id":"`+cid+`"}`, "docs", true), "an input needs read")
	err := at("POST", cp+"/get", "{}", "billing", false)
	var d *Denied
	require.ErrorAs(t, err, &d)
	assert.NotContains(t, d.Reason, "billing", "the client does not learn the name behind an id")
	assert.Contains(t, d.Detail, "billing", "the log does")
	assert.Error(t, at("POST", cp+"/get", "{}", "", false), "an unknown name grants nothing")
}

func TestBodyActionsAndIDs(t *testing.T) {
	rt := classify(t, "POST", cp+"/conditional/commit", `{"operations":[{"operation":"delete","payload":{}},{"operation":"add"},{"operation":"add"}]}`)
	assert.Equal(t, []string{ActionAdd, ActionDelete}, rt.Actions())
	rbac, err := ParseRBAC("r.yaml", []byte("roles_mapping:\n  upd: { actions: [collection:update] }\n  rw: { actions: [collection:update, collection:add, collection:delete] }\nusers:\n  - { id: u, role: upd }\n  - { id: w, role: rw }\n"))
	require.NoError(t, err)
	u, w := &providers.Identity{User: "u"}, &providers.Identity{User: "w"}
	assert.Error(t, rbac.Authorize(u, rt), "collection:update alone cannot add and delete")
	assert.NoError(t, rbac.Authorize(w, rt))

	for _, body := range []string{``, `[]`, `{"operations":{}}`, `{"operations":[{"operation":"drop"}]}`, `{"operations":[1]}`, `{}`} {
		_, err := Classify(req("POST", cp+"/conditional/commit", body))
		assert.ErrorIs(t, err, ErrBadBody, body)
	}
	rt = classify(t, "POST", cp+"/attached_functions/f/add_input", `{"input_collection_id":"`+cid+`"}`)
	assert.Equal(t, []string{cid}, rt.BodyIDs)
	_, err = Classify(req("POST", cp+"/attached_functions/f/add_input", `{"input_collection_id":5}`))
	assert.ErrorIs(t, err, ErrBadBody)

	rt = classify(t, "POST", tp+"/attached_functions/"+cid+"/detach", `{}`)
	assert.True(t, rt.IDOnly)
	assert.Error(t, CheckScope(acmeProd, rt))
	assert.Error(t, rbac.Authorize(w, rt), "RBAC callers are refused what cannot be tied to a scope")
}

// fakeFetcher counts lookups; each takes a while, as an upstream does.
type fakeFetcher struct {
	owners      *Owners
	byID        bool
	fail        atomic.Bool
	lists, byid atomic.Int32
	delay       time.Duration
	colls       map[string]Owner
}

func (f *fakeFetcher) ByID(ctx context.Context, tenant, database, id string) (bool, error) {
	if !f.byID {
		return false, nil
	}
	f.byid.Add(1)
	time.Sleep(f.delay)
	if w, ok := f.colls[id]; ok {
		f.owners.Learn(id, w.Tenant, w.Database, w.Name)
	}
	return true, nil
}

func (f *fakeFetcher) List(ctx context.Context, tenant, database string) error {
	f.lists.Add(1)
	time.Sleep(f.delay)
	if f.fail.Load() {
		return fmt.Errorf("%w: connection refused", ErrUnavailable)
	}
	for id, w := range f.colls {
		if w.Tenant == tenant && w.Database == database {
			f.owners.Learn(id, w.Tenant, w.Database, w.Name)
		}
	}
	return nil
}

func TestResolverSharesOneLookup(t *testing.T) {
	o := NewOwners(100)
	f := &fakeFetcher{owners: o, delay: 50 * time.Millisecond, colls: map[string]Owner{cid: {Tenant: "acme", Database: "prod", Name: "docs"}}}
	v := NewResolver(o)
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w, err := v.Resolve(context.Background(), f, "acme", "prod", cid, 0)
			if err == nil && w.Name != "docs" {
				err = fmt.Errorf("name %q", w.Name)
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "caller %d", i)
	}
	assert.Equal(t, int32(1), f.lists.Load(), "one listing for the whole burst")

	// Made-up ids right after: they wait for Relist to pass, then share
	// one more listing, and are refused.
	v.Relist = 200 * time.Millisecond
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = v.Resolve(context.Background(), f, "acme", "prod", fmt.Sprintf("11111111-2222-4333-8444-%012d", i), 0)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		var d *Denied
		assert.ErrorAs(t, err, &d, "made-up id %d", i)
	}
	assert.Equal(t, int32(2), f.lists.Load(), "one more listing for all the made-up ids")

	// A collection made just after a listing is found, not refused.
	newID := "22222222-2222-4333-8444-555555555555"
	f.colls[newID] = Owner{Tenant: "acme", Database: "prod", Name: "new"}
	w, err := v.Resolve(context.Background(), f, "acme", "prod", newID, 0)
	require.NoError(t, err)
	assert.Equal(t, "new", w.Name)
}

func TestResolverUnavailableAndRecovery(t *testing.T) {
	o := NewOwners(100)
	f := &fakeFetcher{owners: o, colls: map[string]Owner{cid: {Tenant: "acme", Database: "prod", Name: "docs"}}}
	f.fail.Store(true)
	v := NewResolver(o)
	_, err := v.Resolve(context.Background(), f, "acme", "prod", cid, 0)
	assert.ErrorIs(t, err, ErrUnavailable, "never a refusal that blames the caller")
	f.fail.Store(false)
	_, err = v.Resolve(context.Background(), f, "acme", "prod", cid, 0)
	assert.NoError(t, err, "a failed lookup is not remembered: the next one runs")

	// A caller that gives up does not wait for the lookup.
	slow := &fakeFetcher{owners: NewOwners(10), delay: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = NewResolver(slow.owners).Resolve(ctx, slow, "acme", "prod", cid, 0)
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestResolverPrefersByID(t *testing.T) {
	o := NewOwners(100)
	f := &fakeFetcher{owners: o, byID: true, colls: map[string]Owner{cid: {Tenant: "beta", Database: "main", Name: "x"}}}
	v := NewResolver(o)
	_, err := v.Resolve(context.Background(), f, "acme", "prod", cid, 0)
	var d *Denied
	assert.ErrorAs(t, err, &d, "another tenant's collection")
	assert.Equal(t, int32(1), f.byid.Load())
	assert.Zero(t, f.lists.Load())
}

func TestResolverRefreshesOldNames(t *testing.T) {
	o := NewOwners(100)
	f := &fakeFetcher{owners: o, colls: map[string]Owner{cid: {Tenant: "acme", Database: "prod", Name: "billing"}}}
	v := NewResolver(o)
	v.Relist = 0
	o.Learn(cid, "acme", "prod", "docs")
	w, err := v.Resolve(context.Background(), f, "acme", "prod", cid, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, "docs", w.Name, "fresh enough: no lookup")
	assert.Zero(t, f.lists.Load())
	time.Sleep(5 * time.Millisecond)
	w, err = v.Resolve(context.Background(), f, "acme", "prod", cid, time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, "billing", w.Name, "renamed elsewhere: the old name does not stay in force")
	delete(f.colls, cid)
	time.Sleep(5 * time.Millisecond)
	_, err = v.Resolve(context.Background(), f, "acme", "prod", cid, time.Millisecond)
	var d *Denied
	assert.ErrorAs(t, err, &d, "deleted elsewhere: refused, and forgotten")
	_, known := o.Get(cid)
	assert.False(t, known)
}
