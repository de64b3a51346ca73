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
			_ = CheckScope(id, rt)
		}
	})
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
