package providers

import (
	"strings"
	"testing"
)

func FuzzParseHtpasswd(f *testing.F) {
	f.Add("alice:$2y$05$JFzdhYQV45dL6rSFbwGJruC55QIlVmJNVSrAOHeX2iJN1VAv.tJ16\n")
	f.Add("bob:$apr1$x$y\n")
	f.Add("#c\n\n:x\n")
	f.Add("\uFEFFa:b:c")
	f.Fuzz(func(t *testing.T, data string) {
		entries, err := ParseHtpasswd("f", []byte(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, e := range entries {
			if e.User == "" || strings.ContainsAny(e.User, ": \t") || checkBcrypt(e.Hash) != nil {
				t.Fatalf("bad entry accepted: %+v", e)
			}
		}
	})
}

func FuzzParseTokenFile(f *testing.F) {
	f.Add("tok-1\n# c\ntok-2\n")
	f.Add("users:\n  - id: a\n    tokens: [x]\n")
	f.Add("users: [")
	f.Fuzz(func(t *testing.T, data string) {
		entries, err := ParseTokenFile("f", []byte(data))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if checkToken(e.Token) != nil || e.Identity == nil {
				t.Fatalf("bad token entry accepted: %+v", e)
			}
			if seen[e.Token] {
				t.Fatal("a token accepted twice")
			}
			seen[e.Token] = true
		}
	})
}
