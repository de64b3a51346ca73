package authz

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func TestParseBasic(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		in         string
		user, pass string
		ok         bool
	}{
		{enc("admin:secret"), "admin", "secret", true},
		{enc("admin:admin:secret"), "admin", "admin:secret", true}, // split at the first colon
		{"  " + enc("a:") + " ", "a", "", true},                    // empty password, spaces around
		{enc("ä:ö"), "ä", "ö", true},
		{enc(":secret"), "", "", false}, // no user
		{enc("admin"), "", "", false},   // no colon
		{"!!!", "", "", false},
		{"", "", "", false},
		{enc("a:b")[:3], "", "", false}, // cut base64
		{enc("a:" + strings.Repeat("x", MaxBasicLen)), "", "", false},
	} {
		user, pass, ok := ParseBasic(tc.in)
		if user != tc.user || pass != tc.pass || ok != tc.ok {
			t.Errorf("ParseBasic(%.40q) = %q, %q, %v; want %q, %q, %v", tc.in, user, pass, ok, tc.user, tc.pass, tc.ok)
		}
	}
}

func TestExtractCredential(t *testing.T) {
	basicAB := "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b"))
	long := strings.Repeat("t", providers.MaxTokenLen+1)
	type want struct {
		c      Credential
		reason string
	}
	for name, tc := range map[string]struct {
		headers      http.Header
		tokenHeader  string
		basic, token bool
		want         want
	}{
		"nothing":              {http.Header{}, HeaderAuthorization, true, true, want{reason: ReasonMissing}},
		"basic":                {http.Header{"Authorization": {basicAB}}, HeaderAuthorization, true, true, want{c: Credential{Basic: true, User: "a", Pass: "b"}}},
		"basic scheme case":    {http.Header{"Authorization": {"  bASIC  " + basicAB[6:]}}, HeaderAuthorization, true, false, want{c: Credential{Basic: true, User: "a", Pass: "b"}}},
		"basic off":            {http.Header{"Authorization": {basicAB}}, HeaderAuthorization, false, true, want{reason: ReasonMissing}},
		"basic malformed":      {http.Header{"Authorization": {"Basic %%%"}}, HeaderAuthorization, true, true, want{reason: ReasonMalformed}},
		"basic empty":          {http.Header{"Authorization": {"Basic"}}, HeaderAuthorization, true, true, want{reason: ReasonMalformed}},
		"bearer":               {http.Header{"Authorization": {"Bearer  tok "}}, HeaderAuthorization, true, true, want{c: Credential{Token: "tok"}}},
		"bearer lower":         {http.Header{"Authorization": {"bearer tok"}}, HeaderAuthorization, false, true, want{c: Credential{Token: "tok"}}},
		"bearer empty":         {http.Header{"Authorization": {"Bearer   "}}, HeaderAuthorization, true, true, want{reason: ReasonMalformed}},
		"bearer too long":      {http.Header{"Authorization": {"Bearer " + long}}, HeaderAuthorization, true, true, want{reason: ReasonMalformed}},
		"bearer tokens off":    {http.Header{"Authorization": {"Bearer tok"}}, HeaderAuthorization, true, false, want{reason: ReasonMissing}},
		"bearer, x-header":     {http.Header{"Authorization": {"Bearer tok"}}, HeaderChromaToken, true, true, want{reason: ReasonMissing}},
		"other scheme":         {http.Header{"Authorization": {"Digest x"}}, HeaderAuthorization, true, true, want{reason: ReasonMissing}},
		"two authorizations":   {http.Header{"Authorization": {"Bearer a", "Bearer a"}}, HeaderAuthorization, true, true, want{reason: ReasonAmbiguous}},
		"x-chroma-token":       {http.Header{"X-Chroma-Token": {" tok "}}, HeaderChromaToken, false, true, want{c: Credential{Token: "tok"}}},
		"x-chroma-token off":   {http.Header{"X-Chroma-Token": {"tok"}}, HeaderAuthorization, true, true, want{reason: ReasonMissing}},
		"two x-chroma-token":   {http.Header{"X-Chroma-Token": {"a", "b"}}, HeaderChromaToken, true, true, want{reason: ReasonAmbiguous}},
		"x-chroma-token empty": {http.Header{"X-Chroma-Token": {" "}}, HeaderChromaToken, true, true, want{reason: ReasonMalformed}},
		"x-chroma-token long":  {http.Header{"X-Chroma-Token": {long}}, HeaderChromaToken, true, true, want{reason: ReasonMalformed}},
		"basic and token":      {http.Header{"Authorization": {basicAB}, "X-Chroma-Token": {"tok"}}, HeaderChromaToken, true, true, want{reason: ReasonAmbiguous}},
		"basic off and token":  {http.Header{"Authorization": {basicAB}, "X-Chroma-Token": {"tok"}}, HeaderChromaToken, false, true, want{c: Credential{Token: "tok"}}},
		"token off and basic":  {http.Header{"Authorization": {basicAB}, "X-Chroma-Token": {"tok"}}, HeaderChromaToken, true, false, want{c: Credential{Basic: true, User: "a", Pass: "b"}}},
	} {
		c, reason := ExtractCredential(tc.headers, tc.tokenHeader, tc.basic, tc.token, 0)
		if c != tc.want.c || reason != tc.want.reason {
			t.Errorf("%s: got %+v, %q; want %+v, %q", name, c, reason, tc.want.c, tc.want.reason)
		}
	}
}

func TestExtractCredentialAllocs(t *testing.T) {
	h := http.Header{"X-Chroma-Token": {"tok"}}
	if n := testing.AllocsPerRun(100, func() { ExtractCredential(h, HeaderChromaToken, true, true, 0) }); n != 0 {
		t.Errorf("a token credential costs %v allocations, want 0", n)
	}
}
