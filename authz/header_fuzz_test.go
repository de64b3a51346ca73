package authz

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// FuzzParseBasic: any header value decodes or is refused, never panics,
// and whatever decodes splits at the first colon and re-encodes to the
// same credential.
func FuzzParseBasic(f *testing.F) {
	enc := base64.StdEncoding.EncodeToString
	for _, s := range []string{enc([]byte("admin:pa:ss")), enc([]byte(":x")), enc([]byte("admin")), "!!!", "", "   ",
		enc([]byte("ä:ö")), "=" + enc([]byte("a:b")), " " + enc([]byte("a:")) + "\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		user, pass, ok := ParseBasic(s)
		if !ok {
			if user != "" || pass != "" {
				t.Fatalf("refused %q but returned %q, %q", s, user, pass)
			}
			return
		}
		if user == "" || strings.Contains(user, ":") {
			t.Fatalf("user %q from %q", user, s)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil || string(raw) != user+":"+pass {
			t.Fatalf("%q decoded to %q, %q", s, user, pass)
		}
	})
}

// FuzzExtractCredential: any combination of credential headers, token
// header and configured kinds yields at most one credential, of a
// configured kind, taken whole from the one header that carries it; only
// the one good token authenticates.
func FuzzExtractCredential(f *testing.F) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	f.Add("Bearer good-token", "good-token", "", true, true, true)
	f.Add("Basic "+enc("a:b"), "", "good-token", false, true, true)
	f.Add("", "good-token", "good-token", false, false, true)
	f.Add("bearer  good-token ", "", "", true, false, true)
	f.Add("Basic", "\x00", "", false, true, false)
	f.Add("Basic "+enc("a:b"), "", "", true, false, true)
	creds, err := providers.Load(providers.Sources{Tokens: []string{"good-token"}})
	if err != nil {
		f.Fatal(err)
	}
	auth := providers.NewAuthenticator(creds, providers.Options{})
	f.Fuzz(func(t *testing.T, authz, tok1, tok2 string, bearer, basic, token bool) {
		h := http.Header{}
		if authz != "" {
			h[HeaderAuthorization] = []string{authz}
		}
		for _, v := range []string{tok1, tok2} {
			if v != "" {
				h[HeaderChromaToken] = append(h[HeaderChromaToken], v)
			}
		}
		tokenHeader := HeaderChromaToken
		if bearer {
			tokenHeader = HeaderAuthorization
		}
		c, reason := ExtractCredential(h, tokenHeader, basic, token, 0)
		if reason != "" {
			if c != (Credential{}) {
				t.Fatalf("credential %+v with reason %q", c, reason)
			}
			return
		}
		scheme, rest, _ := strings.Cut(strings.TrimSpace(authz), " ")
		switch {
		case c.Basic:
			user, pass, ok := ParseBasic(rest)
			if !basic || !strings.EqualFold(scheme, "Basic") || !ok || c.User != user || c.Pass != pass || c.Token != "" {
				t.Fatalf("basic credential %+v from %q (basic %v)", c, authz, basic)
			}
			if !bearer && token && len(h[HeaderChromaToken]) > 0 {
				t.Fatalf("basic credential beside a token header: %q", h)
			}
		case bearer:
			if !token || !strings.EqualFold(scheme, "Bearer") || c.Token != strings.TrimSpace(rest) {
				t.Fatalf("bearer credential %+v from %q", c, authz)
			}
		default:
			if !token || len(h[HeaderChromaToken]) != 1 || c.Token != strings.TrimSpace(h[HeaderChromaToken][0]) {
				t.Fatalf("token credential %+v from %q", c, h)
			}
			if basic && strings.EqualFold(scheme, "Basic") {
				t.Fatalf("token credential beside a Basic one: %q", h)
			}
		}
		if !c.Basic {
			if c.Token == "" || len(c.Token) > providers.MaxTokenLen {
				t.Fatalf("token of %d bytes accepted", len(c.Token))
			}
			if _, err := auth.CheckToken(creds, c.Token); (err == nil) != (c.Token == "good-token") {
				t.Fatalf("token %q: CheckToken %v", c.Token, err)
			}
		}
	})
}
