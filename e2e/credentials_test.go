package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
)

// credKind is how a client presents a credential on the wire.
type credKind int

const (
	credNone         credKind = iota // no credential header at all
	credBasic                        // Authorization: Basic base64(user:password)
	credBearer                       // Authorization: Bearer <token>
	credXChromaToken                 // X-Chroma-Token: <token>
)

// credential is one client-side credential.
type credential struct {
	kind     credKind
	user     string
	password string
	token    string
}

// header is the HTTP header that carries the credential.
func (c credential) header() (name, value string) {
	switch c.kind {
	case credBasic:
		return "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.password))
	case credBearer:
		return "Authorization", "Bearer " + c.token
	case credXChromaToken:
		return "X-Chroma-Token", c.token
	}
	return "", ""
}

// goAuth is the credential as chroma-go's own provider.
func (c credential) goAuth() chroma.CredentialsProvider {
	switch c.kind {
	case credBasic:
		return chroma.NewBasicAuthCredentialsProvider(c.user, c.password)
	case credBearer:
		return chroma.NewTokenAuthCredentialsProvider(c.token, chroma.AuthorizationTokenHeader)
	case credXChromaToken:
		return chroma.NewTokenAuthCredentialsProvider(c.token, chroma.XChromaTokenHeader)
	}
	return nil
}

// jsHeaders is the credential the way the chromadb JS client takes it: in
// `headers` (its old `auth` option sends nothing for basic or bearer).
func (c credential) jsHeaders() map[string]string {
	name, value := c.header()
	if name == "" {
		return map[string]string{}
	}
	return map[string]string{name: value}
}

// curlArgs is the credential as curl options.
func (c credential) curlArgs() []string {
	switch c.kind {
	case credBasic:
		return []string{"--user", c.user + ":" + c.password}
	case credBearer, credXChromaToken:
		name, value := c.header()
		return []string{"--header", name + ": " + value}
	}
	return nil
}

// authMode is one way of configuring chroma_auth, with a credential that
// must pass and one that must not.
type authMode struct {
	name      string
	directive string // the chroma_auth lines of the site block
	good      credential
	wrong     credential
}

// testCredentials are made fresh for every run, so no test can pass on a
// credential that some file or default happens to hold.
type testCredentials struct {
	htpasswd string // path of an htpasswd file with one bcrypt user
	user     string
	password string // has colons: RFC 7617 splits at the first one only
	bearer   string
	xToken   string
}

func newTestCredentials(dir string) (testCredentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return testCredentials{}, err
	}
	c := testCredentials{
		htpasswd: filepath.Join(dir, "server.htpasswd"),
		user:     "alice",
		password: "pass:with:colons-" + randomHex(8),
		bearer:   "bearer-" + randomHex(16),
		xToken:   "xct-" + randomHex(16),
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(c.password), bcrypt.DefaultCost)
	if err != nil {
		return c, err
	}
	line := fmt.Sprintf("%s:%s\n", c.user, hash)
	return c, os.WriteFile(c.htpasswd, []byte(line), 0o600)
}

// modes are the three set-ups every client is run against.
func (c testCredentials) modes() []authMode {
	return []authMode{
		{
			name:      "basic",
			directive: "chroma_auth basic " + c.htpasswd,
			good:      credential{kind: credBasic, user: c.user, password: c.password},
			wrong:     credential{kind: credBasic, user: c.user, password: c.password + "x"},
		},
		{
			name:      "token-authorization",
			directive: "chroma_auth {\n\t\ttoken " + c.bearer + "\n\t}",
			good:      credential{kind: credBearer, token: c.bearer},
			wrong:     credential{kind: credBearer, token: c.bearer + "x"},
		},
		{
			name:      "token-x-chroma-token",
			directive: "chroma_auth {\n\t\ttoken " + c.xToken + "\n\t\ttoken_header X-Chroma-Token\n\t}",
			good:      credential{kind: credXChromaToken, token: c.xToken},
			wrong:     credential{kind: credXChromaToken, token: "x" + c.xToken},
		},
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
