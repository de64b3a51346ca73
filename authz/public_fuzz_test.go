package authz

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzPublicMatch: a request target is public only if its path is, byte
// for byte, a public route; no escaped or altered form of one is. And every
// path CheckPublicPath accepts matches itself exactly.
func FuzzPublicMatch(f *testing.F) {
	for _, p := range []string{"/api/v2/heartbeat", "/api/v2/%68eartbeat", "//api/v2/heartbeat",
		"/api/v2/heartbeat/../tenants", "/api/v2/heartbeat;", "/api/v2/heartbeat%2F", "/api/v2/version?x=1",
		"/api/v1", "/api/v1/", "/custom/ok", "/custom/./x", "/custom#x"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, target string) {
		set := NewPublicPaths([]string{"/custom/ok"}, false)
		if CheckPublicPath(target) == nil {
			extra := NewPublicPaths([]string{target}, true)
			u, err := url.ParseRequestURI(target)
			if err != nil || !extra.Match(http.MethodGet, u) {
				t.Fatalf("accepted public path %q does not match itself (%v)", target, err)
			}
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		if set.Match(http.MethodPost, u) {
			t.Fatalf("POST %q is public", target)
		}
		if !set.Match(http.MethodGet, u) {
			return
		}
		path, _, _ := strings.Cut(target, "?")
		if _, ok := set[path]; !ok {
			t.Fatalf("%q passed as public (path %q, raw %q)", target, u.Path, u.RawPath)
		}
	})
}
