package authz

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// FuzzClassify sends arbitrary request lines and bodies through Go's own
// request parser, then Classify: it must not panic, must give the body
// back byte for byte, and a known route must carry sane scope.
func FuzzClassify(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"GET", "/api/v2/heartbeat", ""},
		{"POST", "/api/v2/tenants", `{"name":"acme"}`},
		{"POST", "/api/v2/tenants/acme/databases", `{"name":"prod"}`},
		{"POST", "/api/v2/tenants/acme/databases/prod/collections", `{"name":"d","get_or_create":true}`},
		{"GET", "/api/v2/collections/acme:prod:docs", ""},
		{"POST", "/api/v1/collections?tenant=acme&database=prod", `{"name":"d","get_or_create":"yes"}`},
		{"GET", "/api/v2/heartbeat/..%2Ftenants", ""},
		{"HEAD", "//api/v2/tenants/acme/", ""},
		{"PUT", "/api/v2/tenants/a%2Fb/databases/c/collections/" + cid, "{}"},
		{"GET", "http://h/api/v1/count_collections?ten%61nt=x", ""},
		{"POST", "/api/v2/tenants/acme/databases/prod/collections/" + cid + "/conditional/commit", `{"operations":[{"operation":"add","payload":{}},{"operation":"delete"}]}`},
		{"POST", "/api/v2/tenants/acme/databases/prod/collections/" + cid + "/attached_functions/f/add_input", `{"input_collection_id":"` + cid + `"}`},
		{"POST", "/api/v2/tenants/acme/databases/prod/collections/" + cid + "/fork", `{"new_name":"x"}`},
		{"GET", "/api/v2/tenants/globex/databases/prod/collections", ""},
		{"GET", "/api/v2/tenants/acme/databases/dev/collections/docs", ""},
		{"GET", "/api/v2/tenants/acme/databases", ""},
		{"POST", "/api/v2/reset", ""},
		{"POST", "/api/v1/collections/" + cid + "/get", "{}"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, []byte(s.body))
	}
	ids := []*providers.Identity{admin, acmeProd, acmeAll, anyProd}
	f.Fuzz(func(t *testing.T, method, target string, body []byte) {
		if strings.ContainsAny(method+target, " \r\n") || method == "" || target == "" {
			return
		}
		raw := method + " " + target + " HTTP/1.1\r\nHost: h\r\nContent-Length: " +
			itoa(len(body)) + "\r\n\r\n" + string(body)
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		rt, cerr := Classify(r)
		got, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatalf("reading the restored body: %v", err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("body changed: %q became %q", body, got)
		}
		if cerr != nil && len(body) <= MaxBodyBytes && !errors.Is(cerr, ErrBadBody) {
			t.Fatalf("error on a small body: %v", cerr)
		}
		if cerr == nil && rt.NeedsBody {
			t.Fatalf("route left needing its body: %+v", rt)
		}
		if !rt.Known && (rt.Name != "" || rt.Action != "" || rt.Tenant != "" || rt.Database != "" || rt.Collection != "" || rt.NewName != "" || rt.BodyIDs != nil) {
			t.Fatalf("unknown route carries data: %+v", rt)
		}
		if rt.Known {
			for _, s := range []string{rt.Tenant, rt.Database, rt.Collection} {
				if strings.ContainsAny(s, "/\\") || s == "." || s == ".." {
					t.Fatalf("scope %q from %q", s, target)
				}
			}
		}
		for _, id := range ids {
			if CheckScope(id, rt) == nil {
				staysInScope(t, id, rt, target)
			}
		}
	})
}

// staysInScope is the invariant of CheckScope: a route it allows a scoped
// identity stays in the identity's tenant and databases. Routes outside
// every tenant are allowed only when they act on nothing (public,
// identity, pre-flight); a route into a collection or a body's collection
// id is always inside a database; a tenant-level route is the tenant's
// own GET or needs every database of it.
func staysInScope(t *testing.T, id *providers.Identity, rt Route, target string) {
	t.Helper()
	if id.AllTenants() && id.AllDatabases() && id.Collections == nil {
		return // unscoped: RBAC's concern
	}
	fail := func(why string) { t.Fatalf("%s allowed %s for %s: %s (%+v)", id.User, target, why, rt.Name, rt) }
	switch {
	case !rt.Known:
		fail("an unknown route")
	case rt.Unscoped || rt.IDOnly:
		fail("a route it cannot scope")
	case rt.CRN && !id.AllTenants():
		fail("a CRN")
	case rt.Public || rt.Identity || rt.Tenant == "":
		if rt.Action != "" && !rt.Public && !rt.Identity {
			fail("a server-wide action")
		}
		if rt.Database != "" || rt.Collection != "" || rt.NewName != "" || len(rt.BodyIDs) > 0 {
			fail("an object outside every tenant")
		}
	case !id.AllowsTenant(rt.Tenant):
		fail("another tenant")
	case rt.Database != "" && !id.AllowsDatabase(rt.Database):
		fail("another database")
	case rt.Database == "" && (rt.Collection != "" || len(rt.BodyIDs) > 0):
		fail("a collection outside any database")
	case rt.Database == "" && rt.Action != ActionGetTenant && !id.AllDatabases():
		fail("every database of the tenant")
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
