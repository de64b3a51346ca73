package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// prodCreds are the credential files of a production test: an htpasswd
// file with the steady user (and, in a second file, one more user to add
// and remove), and a plain token file with the steady token. Both can
// carry filler users and tokens, so a config that stays in memory after
// a reload shows in the heap.
type prodCreds struct {
	htpasswd    string // the steady user, plus filler
	htpasswdBob string // the same plus bob
	tokenFile   string // the steady token, plus filler
	user        string
	password    string
	bob         string
	bobPassword string
	token       string
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
	return c
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
