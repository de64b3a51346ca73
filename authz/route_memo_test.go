package authz

import (
	"fmt"
	"net/url"
	"testing"
)

// TestClassifyPathRemembered: the remembered route of a path is the one
// classifyPath gives, whatever the query (v2 routes never read it)
// and the method, asked once or again; v1 paths, whose tenant and database
// may come from the query, are classified each time.
func TestClassifyPathRemembered(t *testing.T) {
	const db = "/api/v2/tenants/acme/databases/prod"
	const id = "5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77"
	paths := []string{
		db + "/collections_count", db + "/collections", db + "/collections/" + id,
		db + "/collections/" + id + "/query", db + "/collections/docs/add", db + "/collections/" + id + "/count",
		"/api/v2/tenants/acme", "/api/v2/tenants/acme/databases", "/api/v2/heartbeat", "/api/v2/auth/identity",
		"/api/v2/tenants/acme/databases/prod/collections/" + id + "/get", "/api/v2/nope", "/api/v2/tenants//x",
		"/api/v1/collections", "/api/v1/collections/" + id + "/query", "/api/v1/databases/prod", "/docs/",
	}
	queries := []string{"", "?i=1", "?tenant=other&database=dev", "?limit=3&offset=1"}
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE"} {
		for _, p := range paths {
			for range 2 { // the first asks authz, the second may be remembered
				for _, q := range queries {
					u, err := url.Parse(p + q)
					if err != nil {
						t.Fatal(err)
					}
					got, want := ClassifyPath(method, u), classifyPath(method, u)
					if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
						t.Fatalf("%s %s%s: remembered %+v, want %+v", method, p, q, got, want)
					}
				}
			}
		}
	}
	if got := ClassifyPath("GET", nil); got.Known {
		t.Fatalf("nil URL: %+v", got)
	}
	escaped, _ := url.Parse(db + "/collections/a%2Fb")
	if got, want := ClassifyPath("GET", escaped), classifyPath("GET", escaped); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("escaped path: %+v, want %+v", got, want)
	}
}

// TestClassifyPathRememberedAllocatesNothing: a path asked again is
// remembered: no allocation (classifyPath makes three for it) and
// the same route.
func TestClassifyPathRememberedAllocatesNothing(t *testing.T) {
	u, _ := url.Parse("/api/v2/tenants/default_tenant/databases/default_database/collections_count?i=1")
	first := ClassifyPath("GET", u)
	if first.Action != "db:count_collections" || first.Tenant != "default_tenant" {
		t.Fatalf("route %+v", first)
	}
	var rt Route
	n := testing.AllocsPerRun(100, func() { rt = ClassifyPath("GET", u) })
	if n != 0 {
		t.Fatalf("%v allocations for a remembered path, want 0", n)
	}
	if rt.Action != first.Action || rt.Name != first.Name {
		t.Fatalf("remembered %+v, want %+v", rt, first)
	}
}

// TestClassifyPathRememberedSharedSlots: many more paths than slots, so
// that every slot is taken in turn by paths of other collections, tenants
// and actions; each answer, asked in any order, is classifyPath's for that
// very path and method (a memo trusting the slot alone would hand one
// path another's route).
func TestClassifyPathRememberedSharedSlots(t *testing.T) {
	var us []*url.URL
	for i := range 8 * routeSlots {
		p := fmt.Sprintf("/api/v2/tenants/t%d/databases/d%d/collections/c%d/%s", i%7, i%5, i, [...]string{"query", "get", "add", "count"}[i%4])
		u, err := url.Parse(p)
		if err != nil {
			t.Fatal(err)
		}
		us = append(us, u)
	}
	for round := range 3 {
		for _, m := range []string{"GET", "POST"} { // one method a pass: slots meet other paths, not only the other method
			for i := range us {
				u := us[(i*37+round*11)%len(us)]
				got, want := ClassifyPath(m, u), classifyPath(m, u)
				if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
					t.Fatalf("%s %s: remembered %+v, want %+v", m, u.Path, got, want)
				}
			}
		}
	}
}
