package chromaauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// FuzzParseBasic: any header value decodes or is refused, never panics,
// and whatever decodes splits at the first colon.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{b64("admin:pa:ss"), b64(":x"), b64("admin"), "!!!", "", "   ", b64("ä:ö"), "=" + b64("a:b")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		user, pass, ok := parseBasic(s)
		if !ok {
			return
		}
		if user == "" || strings.Contains(user, ":") {
			t.Fatalf("user %q from %q", user, s)
		}
		_ = pass
	})
}

func fuzzHandler(t testing.TB) *ChromaAuth {
	creds, err := providers.Load(providers.Sources{Tokens: []string{"good-token"}})
	if err != nil {
		t.Fatal(err)
	}
	h := &ChromaAuth{tokenHeader: headerChromaToken, auth: providers.NewAuthenticator(creds, providers.Options{})}
	h.policy = new(atomic.Pointer[policy])
	h.policy.Store(&policy{creds: creds})
	return h
}

// FuzzExtract: any combination of credential headers yields at most one
// credential, and only a valid one authenticates.
func FuzzExtract(f *testing.F) {
	f.Add("Bearer good-token", "good-token", "")
	f.Add("Basic "+b64("a:b"), "", "good-token")
	f.Add("", "good-token", "good-token")
	f.Add("bearer  good-token ", "", "")
	f.Add("Basic", "\x00", "")
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, authz, tok1, tok2 string) {
		r := &http.Request{Header: http.Header{}}
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		for _, v := range []string{tok1, tok2} {
			if v != "" {
				r.Header["X-Chroma-Token"] = append(r.Header["X-Chroma-Token"], v)
			}
		}
		r = r.WithContext(context.Background())
		id, reason, _ := h.authenticate(r, h.policy.Load().creds)
		if id != nil {
			if reason != "" {
				t.Fatalf("identity with reason %q", reason)
			}
			if len(r.Header["X-Chroma-Token"]) != 1 || strings.TrimSpace(r.Header["X-Chroma-Token"][0]) != "good-token" {
				t.Fatalf("authenticated without the one good token: %q", r.Header)
			}
		} else if reason == "" {
			t.Fatal("refused without a reason")
		}
	})
}

// FuzzIsPublic: a path is public only if it is, byte for byte, a public
// route; no escaped or altered form of one is.
func FuzzIsPublic(f *testing.F) {
	for _, p := range []string{"/api/v2/heartbeat", "/api/v2/%68eartbeat", "//api/v2/heartbeat", "/api/v2/heartbeat/../tenants", "/api/v2/heartbeat;", "/api/v2/heartbeat%2F"} {
		f.Add(p)
	}
	h := &ChromaAuth{public: publicSet(nil, false)}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: http.MethodGet, URL: u}
		if !h.isPublic(r) {
			return
		}
		if _, ok := h.public[target]; !ok && !strings.HasPrefix(target, u.Path+"?") {
			t.Fatalf("%q passed as public (path %q, raw %q)", target, u.Path, u.RawPath)
		}
	})
}
