package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// prodCreds are the credential files of a production test: an htpasswd
// file with the steady user (and, in a second file, one more user to add
// and remove), a plain token file with the steady token, and an HMAC
// secret file with a JWT self-issued with it. The first two can carry
// filler users and tokens, so a config that stays in memory after a
// reload shows in the heap.
type prodCreds struct {
	htpasswd    string // the steady user, plus filler
	htpasswdBob string // the same plus bob
	tokenFile   string // the steady token, plus filler
	user        string
	password    string
	bob         string
	bobPassword string
	token       string
	jwtSecret   string // the HMAC secret file of the jwt block
	jwt         string // a JWT signed with it, minted by the binary
}

// newProdCreds writes the files into a new folder of t; fill is the
// number of filler users and tokens in each file.
func newProdCreds(t *testing.T, fill int) prodCreds {
	t.Helper()
	dir := t.TempDir()
	c := prodCreds{
		htpasswd:    filepath.Join(dir, "server.htpasswd"),
		htpasswdBob: filepath.Join(dir, "server-bob.htpasswd"),
		tokenFile:   filepath.Join(dir, "tokens.txt"),
		user:        "alice",
		password:    "pw:" + randomHex(8),
		bob:         "bob",
		bobPassword: "pw:" + randomHex(8),
		token:       "steady-" + randomHex(16),
		jwtSecret:   filepath.Join(dir, "jwt.secret"),
	}
	var hp, tk strings.Builder
	hp.WriteString(htpasswdLine(t, c.user, c.password))
	tk.WriteString(c.token + "\n")
	if fill > 0 {
		// One hash for every filler user: the file's size, not bcrypt,
		// is what matters here.
		filler := htpasswdLine(t, "x", randomHex(8))
		_, hash, _ := strings.Cut(filler, ":")
		for i := range fill {
			fmt.Fprintf(&hp, "filler%05d:%s", i, hash)
			fmt.Fprintf(&tk, "filler-%05d-%s\n", i, randomHex(12))
		}
	}
	require.NoError(t, os.WriteFile(c.htpasswd, []byte(hp.String()), 0o600))
	require.NoError(t, os.WriteFile(c.htpasswdBob, []byte(hp.String()+htpasswdLine(t, c.bob, c.bobPassword)), 0o600))
	require.NoError(t, os.WriteFile(c.tokenFile, []byte(tk.String()), 0o600))
	require.NoError(t, os.WriteFile(c.jwtSecret, []byte(randomHex(32)+"\n"), 0o600))
	c.jwt = mintProdJWT(t, c.jwtSecret, "jwt-app")
	return c
}

// The claims of the production tests' JWTs, and the jwt block that
// checks them.
const (
	prodJWTIssuer   = "prod-e2e-app"
	prodJWTAudience = "urn:chroma:prod-e2e"
)

// mintProdJWT runs the binary's `caddy chroma-auth jwt`, as an operator
// would, for a token of subject signed with the secret in secretFile,
// scoped to the default tenant and database.
func mintProdJWT(t *testing.T, secretFile, subject string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.gatewayBin, "chroma-auth", "jwt", "--secret-file", secretFile,
		"--subject", subject, "--issuer", prodJWTIssuer, "--audience", prodJWTAudience,
		"--tenant", "default_tenant", "--database", "default_database", "--lifetime", "1h")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chroma-auth jwt: %s", stderr.String())
	tok := strings.TrimSpace(string(out))
	require.Equal(t, 2, strings.Count(tok, "."), "a JWT")
	return tok
}

// jwtLines is the jwt block of chroma_auth for c's secret file (indented
// for inside chroma_auth), with more options if given. The secret file is
// reloaded with the other credential files every reload_interval.
func jwtLines(c prodCreds, options ...string) string {
	var more strings.Builder
	for _, o := range options {
		more.WriteString("\t\t\t" + o + "\n")
	}
	return fmt.Sprintf(`		jwt {
			secret_file %s
			issuer %s
			audience %s
			tenant_claim chroma.tenant
			databases_claim chroma.databases
%s		}`, c.jwtSecret, prodJWTIssuer, prodJWTAudience, more.String())
}

func (c prodCreds) jwtCred() credential {
	return credential{kind: credBearer, token: c.jwt}
}

// htpasswdLine is "user:bcrypt\n" at bcrypt's lowest cost (speed; the
// gateway accepts any bcrypt cost).
func htpasswdLine(t *testing.T, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	return user + ":" + string(hash) + "\n"
}

func (c prodCreds) basic() credential {
	return credential{kind: credBasic, user: c.user, password: c.password}
}

func (c prodCreds) bobCred() credential {
	return credential{kind: credBasic, user: c.bob, password: c.bobPassword}
}

func (c prodCreds) bearer() credential {
	return credential{kind: credBearer, token: c.token}
}
