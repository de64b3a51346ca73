package authz

import (
	"net/http"
	"net/url"
	"testing"
)

func TestNewPublicPaths(t *testing.T) {
	all := NewPublicPaths([]string{"/custom"}, false)
	if len(all) != len(DefaultPublic)+1 {
		t.Errorf("defaults and one extra: %d paths", len(all))
	}
	for _, p := range append([]string{"/custom"}, DefaultPublic...) {
		if _, ok := all[p]; !ok {
			t.Errorf("%s missing", p)
		}
	}
	only := NewPublicPaths([]string{"/custom"}, true)
	if _, ok := only["/custom"]; !ok || len(only) != 1 {
		t.Errorf("no_default_public with one extra: %v", only)
	}
	if len(NewPublicPaths(nil, true)) != 0 {
		t.Error("no defaults, no extra: not empty")
	}
}

func TestCheckPublicPath(t *testing.T) {
	for _, p := range append([]string{"/custom", "/a/b-c_d.e~f", "/x/$&+,:=@", "/"}, DefaultPublic...) {
		if err := CheckPublicPath(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for _, p := range []string{"", "api/v2/x", "/a%2Fb", "/a?b", "/a#b", "/a;b", `/a\b`, "/a b", "/a\tb", "/ä",
		"/a//b", "/a/./b", "/a/../b", "/a/.", "/a/..", "/a!b", "/a*b", "/a'b", "/a(b)", "/a[b]"} {
		if err := CheckPublicPath(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

func TestPublicPathsMatch(t *testing.T) {
	set := NewPublicPaths([]string{"/custom"}, false)
	for _, tc := range []struct {
		method, target string
		want           bool
	}{
		{http.MethodGet, "/api/v2/heartbeat", true},
		{http.MethodHead, "/api/v2/heartbeat", true},
		{http.MethodGet, "/api/v2/heartbeat?x=1", true},
		{http.MethodGet, "/custom", true},
		{http.MethodPost, "/api/v2/heartbeat", false},
		{http.MethodDelete, "/custom", false},
		{http.MethodGet, "/api/v2/%68eartbeat", false},
		{http.MethodGet, "/api/v2/heartbeat/", false},
		{http.MethodGet, "//api/v2/heartbeat", false},
		{http.MethodGet, "/api/v2/./heartbeat", false},
		{http.MethodGet, "/api/v2/heartbeat/../tenants", false},
		{http.MethodGet, "/api/v2/heartbeat%2F", false},
		{http.MethodGet, "/api/v2/tenants", false},
		{http.MethodGet, "/API/V2/HEARTBEAT", false},
	} {
		u, err := url.ParseRequestURI(tc.target)
		if err != nil {
			t.Fatal(err)
		}
		if got := set.Match(tc.method, u); got != tc.want {
			t.Errorf("%s %s: public %v, want %v", tc.method, tc.target, got, tc.want)
		}
	}
	if set.Match(http.MethodGet, nil) {
		t.Error("no URL is public")
	}
	if set.Match(http.MethodGet, &url.URL{Opaque: "/api/v2/heartbeat", Path: "/api/v2/heartbeat"}) {
		t.Error("an opaque URL is public")
	}
}
