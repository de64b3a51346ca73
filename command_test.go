package chromaauth

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// runChromaAuth runs `caddy chroma-auth <args>` through the registered
// command and cobra, as the caddy binary would.
func runChromaAuth(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	reg, ok := caddycmd.Commands()["chroma-auth"]
	require.True(t, ok, "chroma-auth is registered")
	root := &cobra.Command{Use: "chroma-auth", SilenceUsage: true, SilenceErrors: true}
	reg.CobraFunc(root)
	var out bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestCommandRegistered(t *testing.T) {
	reg, ok := caddycmd.Commands()["chroma-auth"]
	require.True(t, ok)
	assert.NotEmpty(t, reg.Short)
	root := &cobra.Command{Use: "chroma-auth"}
	reg.CobraFunc(root)
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	assert.ElementsMatch(t, []string{"htpasswd", "token", "check", "jwt", "key", "explain", "test"}, names)
}

func TestCommandHtpasswd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	out, err := runChromaAuth(t, "s3cret:pw\n", "htpasswd", "add", "--file", path, "--user", "admin", "--cost", "4")
	require.NoError(t, err, out)
	assert.NotContains(t, out, "s3cret")
	entries, err := providers.LoadHtpasswd(path)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "admin", entries[0].User)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(entries[0].Hash), []byte("s3cret:pw")))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	_, err = runChromaAuth(t, "s3cret:pw\n", "htpasswd", "verify", "-f", path, "-u", "admin")
	assert.NoError(t, err)
	_, err = runChromaAuth(t, "nope\n", "htpasswd", "verify", "-f", path, "-u", "admin")
	assert.ErrorIs(t, err, cli.ErrWrongPassword)

	// never from argv unless asked
	_, err = runChromaAuth(t, "", "htpasswd", "set", "-f", path, "-u", "admin", "argv-pw")
	require.ErrorContains(t, err, "--password-from-argv")
	_, err = runChromaAuth(t, "", "htpasswd", "set", "-f", path, "-u", "admin", "--cost", "4", "--password-from-argv", "argv-pw")
	require.NoError(t, err)
	_, err = runChromaAuth(t, "argv-pw\n", "htpasswd", "verify", "-f", path, "-u", "admin")
	assert.NoError(t, err)

	_, err = runChromaAuth(t, "", "htpasswd", "remove", "-f", path, "-u", "ghost")
	assert.ErrorIs(t, err, cli.ErrNoSuchUser)
	_, err = runChromaAuth(t, "", "htpasswd", "remove", "-f", path, "-u", "admin")
	assert.NoError(t, err)
}

func TestCommandToken(t *testing.T) {
	out, err := runChromaAuth(t, "", "token")
	require.NoError(t, err)
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}\n$`, out)
	out, err = runChromaAuth(t, "", "token", "--bytes", "48")
	require.NoError(t, err)
	assert.Len(t, strings.TrimSpace(out), 64)
	_, err = runChromaAuth(t, "", "token", "--bytes", "4")
	assert.Error(t, err)
}

func writeCheckFiles(t *testing.T) (dir, htpasswd, tokens string) {
	dir = t.TempDir()
	htpasswd = filepath.Join(dir, "htpasswd")
	require.NoError(t, cli.HtpasswdAdd(htpasswd, "admin", []byte("admin-password"), bcrypt.MinCost))
	require.NoError(t, cli.HtpasswdAdd(htpasswd, "reader", []byte("reader-password"), bcrypt.MinCost))
	tokens = filepath.Join(dir, "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("users:\n  - id: a\n    tokens: [tok-secret-one, tok-secret-two]\n  - id: b\n    tokens: [tok-secret-three]\n"), 0o600))
	return dir, htpasswd, tokens
}

func TestCommandCheckCaddyfile(t *testing.T) {
	dir, htpasswd, tokens := writeCheckFiles(t)
	caddyfile := filepath.Join(dir, "Caddyfile")
	require.NoError(t, os.WriteFile(caddyfile, []byte(`
http://chroma.localhost:8080 {
	chroma_auth {
		basic `+htpasswd+`
		token_file `+tokens+`
		token_header X_CHROMA_TOKEN
		public /custom/ping
	}
	reverse_proxy localhost:8000
}
http://open.localhost:8080 {
	reverse_proxy localhost:8001
}
`), 0o600))
	out, err := runChromaAuth(t, "", "check", "--config", caddyfile)
	require.NoError(t, err, out)
	assert.Contains(t, out, "chroma_auth #1: server srv0 (:8080) › route host(chroma.localhost)")
	assert.Contains(t, out, "basic: 2 user(s)")
	assert.Contains(t, out, "tokens: 3, header X-Chroma-Token")
	assert.Contains(t, out, "/api/v2/heartbeat")
	assert.Contains(t, out, "/custom/ping")
	assert.Contains(t, out, "reverse_proxy with no chroma_auth before it: server srv0 (:8080) › route host(open.localhost)")
	assert.Contains(t, out, "OK: 1 chroma_auth handler(s)")
	for _, secret := range []string{"tok-secret", "admin-password", "$2a$"} {
		assert.NotContains(t, out, secret)
	}
}

func TestCommandCheckReportsErrors(t *testing.T) {
	dir, htpasswd, _ := writeCheckFiles(t)
	data, _ := os.ReadFile(htpasswd)
	require.NoError(t, os.WriteFile(htpasswd, append(data, []byte("legacy:$apr1$x$y\n")...), 0o644))
	require.NoError(t, os.Chmod(htpasswd, 0o644))
	caddyfile := filepath.Join(dir, "Caddyfile")
	require.NoError(t, os.WriteFile(caddyfile, []byte("http://localhost:8080 {\n\tchroma_auth basic "+htpasswd+"\n\treverse_proxy localhost:8000\n}\n"), 0o600))
	out, err := runChromaAuth(t, "", "check", "-c", caddyfile, "--adapter", "caddyfile")
	require.Error(t, err)
	assert.Contains(t, out, htpasswd+":3: user \"legacy\"")
	assert.Contains(t, out, "use htpasswd -B")
	assert.Contains(t, out, "readable by every user")
	assert.Contains(t, out, "1 error(s)")
	assert.NotContains(t, out, "$2a$")
}

func TestCommandCheckFromEnv(t *testing.T) {
	dir, _, tokens := writeCheckFiles(t)
	cfg := filepath.Join(dir, "caddy.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"apps":{"http":{"servers":{"s":{"listen":[":8080"],"routes":[
		{"handle":[{"handler":"chroma_auth","from_env":true},{"handler":"reverse_proxy","upstreams":[{"dial":"localhost:8000"}]}]}]}}}}}`), 0o600))
	t.Setenv("CHROMA_SERVER_AUTHN_PROVIDER", "chromadb.auth.token_authn.TokenAuthenticationServerProvider")
	t.Setenv("CHROMA_SERVER_AUTHN_CREDENTIALS_FILE", tokens)
	t.Setenv("CHROMA_AUTH_TOKEN_TRANSPORT_HEADER", "AUTHORIZATION")
	out, err := runChromaAuth(t, "", "check", "--config", cfg)
	require.NoError(t, err, out)
	assert.Contains(t, out, "from Chroma's environment variables")
	assert.Contains(t, out, "tokens: 3, header Authorization")
	assert.NotContains(t, out, "reverse_proxy with no chroma_auth")

	t.Setenv("CHROMA_SERVER_AUTHN_PROVIDER", "chromadb.auth.fancy.Provider")
	out, err = runChromaAuth(t, "", "check", "--config", cfg)
	require.Error(t, err)
	assert.Contains(t, out, "from_env: CHROMA_SERVER_AUTHN_PROVIDER")
}

func TestInspectHandlerRejectsUnknownFields(t *testing.T) {
	r := cli.Inspect([]byte(`{"handler":"chroma_auth","htpasswd_fiel":"/x"}`))
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0], "htpasswd_fiel")
	r = cli.Inspect([]byte(`{"handler":"chroma_auth"}`))
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0], "no credentials")
}
