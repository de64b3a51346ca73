package providers

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHtpasswdAcceptsEveryBcryptVariant(t *testing.T) {
	a := bcryptLine(t, "alice", "a")
	b := strings.Replace(bcryptLine(t, "bob", "b"), "$2a$", "$2y$", 1)
	c := strings.Replace(bcryptLine(t, "carol", "c"), "$2a$", "$2b$", 1)
	data := "\uFEFF# comment\n" + a + "\n\n  " + b + "  \r\n" + c + "\n"
	entries, err := ParseHtpasswd("server.htpasswd", []byte(data))
	require.NoError(t, err)
	require.Len(t, entries, 3)
	assert.Equal(t, "alice", entries[0].User)
	assert.Equal(t, 2, entries[0].Line)
	assert.Equal(t, "bob", entries[1].User)
	assert.Equal(t, 4, entries[1].Line)
	assert.True(t, strings.HasPrefix(entries[1].Hash, "$2y$"))
	assert.Equal(t, "carol", entries[2].User)
}

func TestParseHtpasswdErrorsNameFileLineAndUser(t *testing.T) {
	good := bcryptLine(t, "alice", "secret")
	goodHash := strings.SplitN(good, ":", 2)[1]
	cases := []struct {
		name, data string
		want       []string
	}{
		{"apr1", good + "\nbob:$apr1$abc$defghijklmnopqrstuvwx\n", []string{"server.htpasswd:2", `user "bob"`, "use htpasswd -B"}},
		{"sha", "bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", []string{"server.htpasswd:1", `user "bob"`, "SHA-1", "use htpasswd -B"}},
		{"crypt", "bob:$6$salt$hash\n", []string{"server.htpasswd:1", `user "bob"`, "crypt", "use htpasswd -B"}},
		{"plain", "bob:password\n", []string{"server.htpasswd:1", `user "bob"`, "use htpasswd -B"}},
		{"duplicate", good + "\n" + good + "\n", []string{"server.htpasswd:2", `user "alice"`, "duplicate user (first on line 1)"}},
		{"no colon", "justauser\n", []string{"server.htpasswd:1", "malformed line"}},
		{"empty user", ":" + goodHash + "\n", []string{"server.htpasswd:1", "empty user name"}},
		{"no hash", "bob:\n", []string{"server.htpasswd:1", `user "bob"`, "no password hash"}},
		{"broken bcrypt", "bob:$2y$05$short\n", []string{"server.htpasswd:1", `user "bob"`, "malformed bcrypt hash"}},
		{"empty file", "", []string{"server.htpasswd", "no users", "empty"}},
		{"only comments", "# nobody\n\n", []string{"server.htpasswd", "no users"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHtpasswd("server.htpasswd", []byte(tc.data))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			// never a secret in the message
			assert.NotContains(t, err.Error(), goodHash)
			assert.NotContains(t, err.Error(), "$apr1$abc")
			assert.NotContains(t, err.Error(), "W6ph5Mm5")
			assert.NotContains(t, err.Error(), "password\n")
		})
	}
}

func TestLoadHtpasswdMissingFile(t *testing.T) {
	_, err := LoadHtpasswd("/nonexistent/server.htpasswd")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/server.htpasswd")
	assert.Contains(t, err.Error(), "no such file")
}
