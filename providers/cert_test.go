package providers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// leafCert makes a self-signed certificate with the given names; the index
// never verifies (Caddy has), it only reads the names.
func leafCert(t testing.TB, cn string, uris, dns, emails []string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(time.Now().UnixNano()),
		Subject:        pkix.Name{CommonName: cn},
		NotBefore:      time.Now().Add(-time.Hour),
		NotAfter:       time.Now().Add(time.Hour),
		DNSNames:       dns,
		EmailAddresses: emails,
	}
	for _, u := range uris {
		pu, err := url.Parse(u)
		require.NoError(t, err)
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// colonHex is a fingerprint as openssl prints it: upper case, colons.
func colonHex(fp string) string {
	var parts []string
	for i := 0; i < len(fp); i += 2 {
		parts = append(parts, strings.ToUpper(fp[i:i+2]))
	}
	return strings.Join(parts, ":")
}

func TestParseCertMatcher(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	good := map[string]string{
		"CN=Jane Doe":                        "CN=Jane Doe",
		"cn=svc":                             "CN=svc",
		"URI=spiffe://example.org/ns/a/sa/b": "URI=spiffe://example.org/ns/a/sa/b",
		"DNS=API.Example.com":                "DNS=api.example.com",
		"EMAIL=Ops@Example.COM":              "EMAIL=Ops@example.com",
		"SHA256=" + fp:                       "SHA256=" + fp,
		"sha256=" + colonHex(fp):             "SHA256=" + fp,
	}
	for in, want := range good {
		m, err := ParseCertMatcher(in)
		require.NoError(t, err, in)
		require.Equal(t, want, m.String(), in)
	}
	bad := map[string]string{
		"OU=eng":                             `unknown matcher "OU"`,
		"SERIAL=1":                           `unknown matcher "SERIAL"`,
		"svc":                                "no matcher",
		"CN=":                                "empty value",
		"CN= x":                              "spaces around",
		"CN=a\nb":                            "control characters",
		"URI=example.org/svc":                "absolute URI",
		"EMAIL=ops":                          "address",
		"DNS=a b":                            "no spaces",
		"SHA256=abcd":                        "64 hex digits",
		"SHA256=" + strings.Repeat("zz", 32): "64 hex digits",
	}
	for in, want := range bad {
		_, err := ParseCertMatcher(in)
		require.ErrorContains(t, err, want, in)
	}
}

func TestUsersCertsErrorsNameFileLineUserAndMatcher(t *testing.T) {
	doc := "users:\n  - id: a\n    tokens: [tok-a]\n  - id: svc\n    certs: [\"CN=svc\", \"OU=eng\"]\n"
	_, err := ParseUsers("users.yaml", []byte(doc), false)
	require.EqualError(t, err, `users.yaml:4: user "svc": certs[1]: unknown matcher "OU" (want CN, URI, DNS, EMAIL or SHA256)`)

	_, err = ParseUsers("users.yaml", []byte("users:\n  - id: svc\n    certs: CN=svc\n"), false)
	require.ErrorContains(t, err, "users.yaml:2")

	dup := "users:\n  - id: a\n    certs: [\"DNS=x.example\"]\n  - id: b\n    certs: [\"DNS=X.example\"]\n"
	_, err = Load(Sources{UsersFile: writeFile(t, "u.yaml", dup), ClientCert: true})
	require.ErrorContains(t, err, `:4: user "b": certs[0] DNS=x.example is already a cert of user "a"`)

	// A token file has no certs: they belong in the users file.
	tf := "users:\n  - id: a\n    tokens: [tok-a]\n    certs: [\"CN=a\"]\n"
	_, err = ParseTokenFile("tokens.yaml", []byte(tf))
	require.EqualError(t, err, `tokens.yaml:2: user "a": certs: belong in the users_file, not a token file`)
}

func TestCertOnlyUsersFileNeedsClientCert(t *testing.T) {
	path := writeFile(t, "u.yaml", "users:\n  - id: svc\n    certs: [\"CN=svc\"]\n")
	_, err := Load(Sources{UsersFile: path})
	require.ErrorContains(t, err, "no tokens")
	c, err := Load(Sources{UsersFile: path, ClientCert: true})
	require.NoError(t, err)
	require.Equal(t, 1, c.NumCertUsers())
}

// explain --user finds a user the users file knows by its certs: only,
// with provider cert; a token user stays a token user.
func TestUserIdentityOfCertUser(t *testing.T) {
	doc := "users:\n  - id: svc\n    tenant: acme\n    certs: [\"CN=svc\", \"DNS=svc.example\"]\n  - id: both\n    tokens: [tok-both]\n    certs: [\"CN=both\"]\n"
	c, err := Load(Sources{UsersFile: writeFile(t, "u.yaml", doc), ClientCert: true})
	require.NoError(t, err)
	id, ok := c.UserIdentity("svc")
	require.True(t, ok)
	require.Equal(t, "svc", id.User)
	require.Equal(t, ProviderCert, id.Provider)
	require.Equal(t, "acme", id.Tenant)
	id, ok = c.UserIdentity("both")
	require.True(t, ok)
	require.Equal(t, "token", id.Provider)
	_, ok = c.UserIdentity("nobody")
	require.False(t, ok)
}

func TestCertIdentity(t *testing.T) {
	byFP := leafCert(t, "anything", nil, nil, nil)
	doc := `users:
  - id: reader
    role: reader
    tenant: acme
    databases: [prod]
    collections: {docs: read}
    certs: ["URI=spiffe://example.org/reader"]
  - id: cn-user
    certs: ["CN=Build Bot"]
  - id: dns-user
    certs: ["DNS=svc.example.com"]
  - id: mail-user
    certs: ["EMAIL=ops@example.com"]
  - id: fp-user
    certs: ["SHA256=` + colonHex(fingerprint(byFP)) + `"]
  - id: basic-too
    tokens: [tok-basic]
`
	c, err := Load(Sources{UsersFile: writeFile(t, "u.yaml", doc), ClientCert: true})
	require.NoError(t, err)
	require.Equal(t, 5, c.NumCertUsers())

	id, err := c.CertIdentity(leafCert(t, "", []string{"spiffe://example.org/reader"}, nil, nil))
	require.NoError(t, err)
	require.Equal(t, "reader", id.User)
	require.Equal(t, ProviderCert, id.Provider)
	require.Equal(t, "acme", id.Tenant)
	require.Equal(t, []string{"prod"}, id.Databases)
	require.Equal(t, "reader", id.Role)
	require.NotNil(t, id.Collections)
	require.Equal(t, LevelRead, id.Collections.Level("docs"))
	require.Equal(t, LevelNone, id.Collections.Level("other"))

	for want, leaf := range map[string]*x509.Certificate{
		"cn-user":   leafCert(t, "Build Bot", nil, nil, nil),
		"dns-user":  leafCert(t, "x", nil, []string{"SVC.example.com"}, nil),
		"mail-user": leafCert(t, "x", nil, nil, []string{"ops@EXAMPLE.com"}),
		"fp-user":   byFP,
	} {
		id, err := c.CertIdentity(leaf)
		require.NoError(t, err, want)
		require.Equal(t, want, id.User)
		require.Equal(t, "*", id.Tenant)
	}

	// Near misses are nobody's: exact CN, exact URI, local part of email.
	for _, leaf := range []*x509.Certificate{
		leafCert(t, "build bot", nil, nil, nil),
		leafCert(t, "Build Bot ", nil, nil, nil),
		leafCert(t, "", []string{"spiffe://example.org/reader/x"}, nil, nil),
		leafCert(t, "", []string{"spiffe://example.org/Reader"}, nil, nil),
		leafCert(t, "x", nil, nil, []string{"OPS@example.com"}),
		leafCert(t, "x", nil, []string{"other.example.com"}, nil),
		leafCert(t, "anything", nil, nil, nil), // same names as byFP, other key: other fingerprint
	} {
		_, err := c.CertIdentity(leaf)
		require.ErrorIs(t, err, ErrCertUnclaimed)
	}
	_, err = c.CertIdentity(nil)
	require.ErrorIs(t, err, ErrCertUnclaimed)

	// One certificate, two users' matchers: nobody.
	_, err = c.CertIdentity(leafCert(t, "Build Bot", []string{"spiffe://example.org/reader"}, nil, nil))
	require.ErrorIs(t, err, ErrCertAmbiguous)
	// Two matchers of one user: that user.
	c2, err := Load(Sources{UsersFile: writeFile(t, "u2.yaml", "users:\n  - id: a\n    certs: [\"CN=a\", \"DNS=a.example\"]\n"), ClientCert: true})
	require.NoError(t, err)
	id, err = c2.CertIdentity(leafCert(t, "a", nil, []string{"a.example"}, nil))
	require.NoError(t, err)
	require.Equal(t, "a", id.User)

	// A set without certs claims no certificate.
	c3, err := Load(Sources{Tokens: []string{"tok-1"}, ClientCert: true})
	require.NoError(t, err)
	_, err = c3.CertIdentity(byFP)
	require.ErrorIs(t, err, ErrCertUnclaimed)
}

func FuzzParseCertMatcher(f *testing.F) {
	for _, s := range []string{"CN=a", "URI=spiffe://x/y", "DNS=A.b", "EMAIL=a@B", "SHA256=" + strings.Repeat("0A:", 31) + "0a", "OU=x", "=", "cn= ", "URI=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseCertMatcher(s)
		if err != nil {
			return
		}
		// The canonical form parses back to itself.
		again, err := ParseCertMatcher(m.String())
		if err != nil || again != m {
			t.Fatalf("%q → %q → %q, %v", s, m, again, err)
		}
		if m.Value == "" {
			t.Fatalf("%q: empty value accepted", s)
		}
	})
}
