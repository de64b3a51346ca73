package providers

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ProviderCert names a client certificate as the credential: Caddy verified
// it in the TLS handshake, and a users-file entry's `certs:` claims it.
const ProviderCert = "cert"

// The kinds of certificate matcher, as written before the "=".
const (
	CertCN     = "CN"     // the subject's common name, exactly
	CertURI    = "URI"    // a URI subject alternative name (SPIFFE id), exactly
	CertDNS    = "DNS"    // a DNS subject alternative name, in any case
	CertEmail  = "EMAIL"  // an email subject alternative name, its domain in any case
	CertSHA256 = "SHA256" // the SHA-256 fingerprint of the whole certificate
)

// ErrCertUnclaimed: Caddy verified the certificate, but no user claims it.
// ErrCertAmbiguous: it matches the certs of more than one user.
var (
	ErrCertUnclaimed = errors.New("no user claims the client certificate")
	ErrCertAmbiguous = errors.New("the client certificate matches more than one user")
)

// CertMatcher is one entry of a user's `certs:`: which certificates are
// that user's. It is parsed from "KIND=value", KIND one of CN, URI, DNS,
// EMAIL, SHA256 (in any case); a SHA256 value is the fingerprint in hex,
// with or without colons, in any case.
type CertMatcher struct {
	Kind  string // CertCN, CertURI, CertDNS, CertEmail or CertSHA256
	Value string // canonical: DNS lower case, EMAIL's domain lower case, SHA256 lower-case hex
}

// String is the matcher as written in a users file, canonical.
func (m CertMatcher) String() string { return m.Kind + "=" + m.Value }

// ParseCertMatcher parses one `certs:` entry. An unknown kind, an empty
// value, control characters, a URI without a scheme, an email without an
// "@" or a fingerprint that is not 32 bytes of hex are errors.
func ParseCertMatcher(s string) (CertMatcher, error) {
	kind, val, ok := strings.Cut(s, "=")
	if !ok {
		return CertMatcher{}, fmt.Errorf("%q is no matcher: want CN=, URI=, DNS=, EMAIL= or SHA256= and a value", s)
	}
	m := CertMatcher{Kind: strings.ToUpper(strings.TrimSpace(kind)), Value: val}
	if val == "" || val != strings.TrimSpace(val) {
		return CertMatcher{}, fmt.Errorf("%s=: empty value, or spaces around it", m.Kind)
	}
	for _, r := range val {
		if r < ' ' || r == 0x7f {
			return CertMatcher{}, fmt.Errorf("%s=: value has control characters", m.Kind)
		}
	}
	switch m.Kind {
	case CertCN:
	case CertURI:
		u, err := url.Parse(val)
		if err != nil || u.Scheme == "" || strings.ContainsRune(val, ' ') {
			return CertMatcher{}, fmt.Errorf("URI=%s: want an absolute URI such as spiffe://example.org/service", val)
		}
	case CertDNS:
		if strings.ContainsRune(val, ' ') {
			return CertMatcher{}, fmt.Errorf("DNS=%s: a DNS name has no spaces", val)
		}
		m.Value = strings.ToLower(val)
	case CertEmail:
		local, domain, ok := strings.Cut(val, "@")
		if !ok || local == "" || domain == "" || strings.ContainsRune(val, ' ') {
			return CertMatcher{}, fmt.Errorf("EMAIL=%s: want an address such as ops@example.com", val)
		}
		m.Value = canonicalEmail(val)
	case CertSHA256:
		b, err := hex.DecodeString(strings.ReplaceAll(val, ":", ""))
		if err != nil || len(b) != sha256.Size {
			return CertMatcher{}, fmt.Errorf("SHA256=: want the certificate's 64 hex digits (colons allowed), as `openssl x509 -noout -fingerprint -sha256` prints them")
		}
		m.Value = hex.EncodeToString(b)
	default:
		return CertMatcher{}, fmt.Errorf("unknown matcher %q (want CN, URI, DNS, EMAIL or SHA256)", strings.TrimSpace(kind))
	}
	return m, nil
}

// canonicalEmail lowers an address's domain; the local part stays as is.
func canonicalEmail(a string) string {
	i := strings.LastIndexByte(a, '@')
	if i < 0 {
		return a
	}
	return a[:i+1] + strings.ToLower(a[i+1:])
}

// certIndex finds the user of a certificate: one map from matcher to the
// identity of the user whose `certs:` has it.
type certIndex map[CertMatcher]*Identity

// add records every matcher of u; a matcher another user has already is an
// error naming both.
func (ix certIndex) add(file string, u *UserEntry, owner map[CertMatcher]string) error {
	id := u.Identity(ProviderCert)
	for j, m := range u.CertMatchers {
		if first, dup := owner[m]; dup {
			return fileErr(file, u.Line, fmt.Sprintf("user %q", u.ID), "certs[%d] %s is already a cert of user %q: a certificate must belong to one user", j, m, first)
		}
		owner[m] = u.ID
		ix[m] = id
	}
	return nil
}

// lookup is the identity whose matchers match leaf: the certificate's
// fingerprint, subject common name, URI, DNS and email names are each
// looked up. Two different users matching is ErrCertAmbiguous.
func (ix certIndex) lookup(leaf *x509.Certificate) (*Identity, error) {
	var found *Identity
	try := func(kind, val string) error {
		id := ix[CertMatcher{Kind: kind, Value: val}]
		if id == nil {
			return nil
		}
		if found != nil && found != id {
			return ErrCertAmbiguous
		}
		found = id
		return nil
	}
	sum := sha256.Sum256(leaf.Raw)
	err := try(CertSHA256, hex.EncodeToString(sum[:]))
	if err == nil && leaf.Subject.CommonName != "" {
		err = try(CertCN, leaf.Subject.CommonName)
	}
	for _, u := range leaf.URIs {
		if err == nil {
			err = try(CertURI, u.String())
		}
	}
	for _, d := range leaf.DNSNames {
		if err == nil {
			err = try(CertDNS, strings.ToLower(d))
		}
	}
	for _, e := range leaf.EmailAddresses {
		if err == nil {
			err = try(CertEmail, canonicalEmail(e))
		}
	}
	switch {
	case err != nil:
		return nil, err
	case found == nil:
		return nil, ErrCertUnclaimed
	}
	return found, nil
}

// CertIdentity is the identity of the user whose `certs:` match leaf, a
// certificate Caddy verified: ErrCertUnclaimed when none does,
// ErrCertAmbiguous when more than one user's do.
func (c *Credentials) CertIdentity(leaf *x509.Certificate) (*Identity, error) {
	if leaf == nil || len(c.certs) == 0 {
		return nil, ErrCertUnclaimed
	}
	return c.certs.lookup(leaf)
}

// certUser is the identity of user when the users file gives it certs:,
// nil otherwise (for UserIdentity: explain --user of a certificate user).
func (c *Credentials) certUser(user string) *Identity {
	for _, id := range c.certs {
		if id.User == user {
			return id // every matcher of a user holds the same identity
		}
	}
	return nil
}

// NumCertUsers is the number of users with certs.
func (c *Credentials) NumCertUsers() int { return c.certUsers }

// parseCerts reads a user's `certs:`; errors name the file, line, user and
// the matcher.
func parseCerts(file string, u *UserEntry) error {
	for j, s := range u.Certs {
		m, err := ParseCertMatcher(s)
		if err != nil {
			return fileErr(file, u.Line, fmt.Sprintf("user %q", u.ID), "certs[%d]: %v", j, err)
		}
		u.CertMatchers = append(u.CertMatchers, m)
	}
	return nil
}

// addCerts indexes the certs of the users file's users.
func (c *Credentials) addCerts(file string, users []UserEntry) error {
	c.certs = make(certIndex)
	owner := make(map[CertMatcher]string)
	for i := range users {
		if len(users[i].CertMatchers) == 0 {
			continue
		}
		if err := c.certs.add(file, &users[i], owner); err != nil {
			return err
		}
		c.certUsers++
	}
	return nil
}
