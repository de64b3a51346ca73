package jwtauth

import (
	"errors"
	"strings"
	"testing"
)

// TestSecretTooShortForItsAlgorithmFailsTheLoad: an HMAC algorithm in the
// allow-list needs a secret as long as its hash (HS256 32 bytes, HS384
// 48, HS512 64); a shorter secret, inline or from secret_file, fails the
// load with the algorithm and the lengths named, instead of every such
// token being refused later as a bad signature.
func TestSecretTooShortForItsAlgorithmFailsTheLoad(t *testing.T) {
	for _, tc := range []struct {
		alg  string
		n    int
		want string
	}{
		{"HS384", 47, "needs a secret of at least 48"},
		{"HS512", 63, "needs a secret of at least 64"},
		{"HS512", 32, "needs a secret of at least 64"},
	} {
		secret := []byte(strings.Repeat("s", tc.n))
		err := (&Config{Secret: secret, Algorithms: []string{tc.alg}}).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.alg) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("secret of %d bytes with %s: %v", tc.n, tc.alg, err)
		}
		file := writeFile(t, t.TempDir(), "jwt.secret", secret)
		_, err = CheckStatic(Config{SecretFile: file, Algorithms: []string{tc.alg}})
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("secret_file of %d bytes with %s: %v", tc.n, tc.alg, err)
		}
		secret = []byte(strings.Repeat("s", hmacMinLen(tc.alg)))
		if err := (&Config{Secret: secret, Algorithms: []string{tc.alg}}).Validate(); err != nil {
			t.Errorf("secret of %d bytes with %s: %v", len(secret), tc.alg, err)
		}
	}
}

// TestDefaultAllowListFitsTheSecret: with no allow-list a secret verifies
// the HMAC algorithms it is long enough for; a token of a longer one is
// refused as an algorithm not allowed (not as a bad signature), inline or
// from secret_file.
func TestDefaultAllowListFitsTheSecret(t *testing.T) {
	secret := []byte(strings.Repeat("k", 48))
	file := writeFile(t, t.TempDir(), "jwt.secret", secret)
	for name, cfg := range map[string]Config{
		"secret":      {Secret: secret, Issuer: "https://idp.test", Audience: []string{"chroma"}},
		"secret_file": {SecretFile: file, Issuer: "https://idp.test", Audience: []string{"chroma"}},
	} {
		v := started(t, cfg)
		for _, alg := range []string{"HS256", "HS384"} {
			if _, err := v.Verify(sign(t, secret, alg, "", claims(nil))); err != nil {
				t.Errorf("%s: %s token with a 48-byte secret: %v", name, alg, err)
			}
		}
		_, err := v.Verify(sign(t, testSecret, "HS512", "", claims(nil)))
		if !errors.Is(err, ErrAlgNotAllowed) {
			t.Errorf("%s: HS512 token with a 48-byte secret: %v, want %v", name, err, ErrAlgNotAllowed)
		}
	}
}
