package jwtauth

import (
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary token strings to a verifier: it must never
// panic, and must accept nothing but the genuine token (or a string that
// decodes to the very same header, claims and signature: base64 leaves a
// few spare bits in the last character).
func FuzzVerify(f *testing.F) {
	v, err := New(Config{Secret: testSecret, Audience: []string{"chroma"}, ReloadInterval: -1, TenantClaim: "t", DatabasesClaim: "d", CollectionsClaim: "c"}, Hooks{})
	if err != nil {
		f.Fatal(err)
	}
	if err := v.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(v.Stop)
	good := sign(f, testSecret, "HS256", "", claims(map[string]any{"t": "acme", "d": []string{"x"}, "c": map[string]string{"a*": "read"}, "exp": time.Now().Add(24 * time.Hour).Unix()}))
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJIUzI1NiIsImNyaXQiOlsieCJdfQ.e30.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := v.Verify(tok)
		if err == nil {
			if id == nil || id.Tenant != "acme" || id.User != "alice" || len(tok) != len(good) {
				t.Fatalf("accepted a token that is not the genuine one")
			}
			return
		}
		if id != nil {
			t.Fatal("identity with an error")
		}
		if Reason(err) == "invalid" {
			t.Fatalf("untyped refusal: %v", err)
		}
	})
}
