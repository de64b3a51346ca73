package providers

import (
	"strings"
	"testing"
)

// FuzzParseKeys: whatever a keys file holds, the parser either names the
// file in its error or returns entries that each make a valid identity,
// with distinct ids and well-formed hashes.
func FuzzParseKeys(f *testing.F) {
	f.Add(`{"id":"AbCdEfGh12345678","user":"alice","created":"2026-11-25T12:00:00Z","expires":"never","hash":"sha256:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}` + "\n")
	f.Add(`{"id":"AbCdEfGh12345678","user":"bob","created":"2026-11-25T12:00:00Z","expires":"2027-01-01T00:00:00Z","tenant":"acme","databases":["prod"],"collections":{"team-*":"write"},"hash":"sha256:x:y"}`)
	f.Add("# c\n\n{}\n")
	f.Add("{\"id\":1}")
	f.Fuzz(func(t *testing.T, data string) {
		entries, err := ParseKeys("f", []byte(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if !validKeyID(e.ID) || seen[e.ID] || e.User == "" || e.Identity() == nil {
				t.Fatalf("bad entry accepted: %+v", e)
			}
			seen[e.ID] = true
			if _, _, err := parseKeyHash(e.Hash); err != nil {
				t.Fatalf("bad hash accepted: %v", err)
			}
		}
	})
}

// FuzzSplitKey: a key that splits is exactly prefix, id, "_", secret, all
// base62, in bounds.
func FuzzSplitKey(f *testing.F) {
	f.Add("chk_AbCdEfGh12345678_" + strings.Repeat("z", KeySecretLen))
	f.Add("chk__")
	f.Add("chk_a_b_c")
	f.Fuzz(func(t *testing.T, tok string) {
		id, secret, ok := SplitKey(tok)
		if !ok {
			return
		}
		if KeyPrefix+id+"_"+secret != tok || !validKeyID(id) || !isBase62(secret) || len(secret) < KeySecretLen {
			t.Fatalf("bad split of %q: %q %q", tok, id, secret)
		}
	})
}
