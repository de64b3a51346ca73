package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/jwtauth"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const cliSecret = "cli-secret-0123456789abcdef0123456789abcdef"

func verifier(t *testing.T, cfg jwtauth.Config) *jwtauth.Verifier {
	cfg.ReloadInterval = -1
	cfg.TenantClaim, cfg.DatabasesClaim, cfg.RoleClaim, cfg.CollectionsClaim = "chroma.tenant", "chroma.databases", "chroma.role", "chroma.collections"
	v, err := jwtauth.New(cfg, jwtauth.Hooks{})
	require.NoError(t, err)
	require.NoError(t, v.Start())
	t.Cleanup(v.Stop)
	return v
}

func TestMintJWTWithSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(file, []byte(cliSecret+"\n"), 0o600))
	var out bytes.Buffer
	code, err := RunJWT(IO{Stdout: &out}, JWTArgs{
		SecretFile: file, Subject: "app-user-7", Issuer: "my-app", Audience: []string{"chroma"},
		Tenant: "acme", Databases: []string{"prod"}, Role: "reader",
		Collections: []string{"docs=read", "team-*=write"}, Lifetime: 10 * time.Minute,
	})
	require.NoError(t, err)
	require.Equal(t, ExitOK, code)
	tok := bytes.TrimSpace(out.Bytes())
	v := verifier(t, jwtauth.Config{Secret: []byte(cliSecret), Issuer: "my-app", Audience: []string{"chroma"}})
	id, err := v.Verify(string(tok))
	require.NoError(t, err)
	require.Equal(t, "app-user-7", id.User)
	require.Equal(t, "acme", id.Tenant)
	require.Equal(t, []string{"prod"}, id.Databases)
	require.Equal(t, "reader", id.Role)
	require.Equal(t, providers.LevelWrite, id.Collections.Level("team-x"))
	require.Equal(t, providers.LevelNone, id.Collections.Level("other"))

	// from the environment, nothing scoped: a bare identity
	tok2, err := MintJWT(JWTArgs{SecretEnv: "JWT_SECRET", Subject: "svc", LookupEnv: func(string) (string, bool) { return cliSecret, true }}, time.Now())
	require.NoError(t, err)
	v2 := verifier(t, jwtauth.Config{Secret: []byte(cliSecret)})
	v2cfg := jwtauth.Config{Secret: []byte(cliSecret), ReloadInterval: -1}
	bare, err := jwtauth.New(v2cfg, jwtauth.Hooks{})
	require.NoError(t, err)
	require.NoError(t, bare.Start())
	defer bare.Stop()
	id, err = bare.Verify(tok2)
	require.NoError(t, err)
	require.Equal(t, "*", id.Tenant)
	_, err = v2.Verify(tok2)
	require.ErrorIs(t, err, jwtauth.ErrMissingClaim, "a gateway that maps tenant refuses a token without one")
}

func TestMintJWTWithPrivateKeys(t *testing.T) {
	dir := t.TempDir()
	r, _ := rsa.GenerateKey(rand.Reader, 2048)
	e, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, d, _ := ed25519.GenerateKey(rand.Reader)
	ecDER, err := x509.MarshalECPrivateKey(e)
	require.NoError(t, err)
	edDER, err := x509.MarshalPKCS8PrivateKey(d)
	require.NoError(t, err)
	for _, c := range []struct {
		name, typ string
		der       []byte
		pub       any
	}{
		{"rsa", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(r), &r.PublicKey},
		{"ec", "EC PRIVATE KEY", ecDER, &e.PublicKey},
		{"ed25519", "PRIVATE KEY", edDER, d.Public()},
	} {
		keyFile := filepath.Join(dir, c.name+".pem")
		require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: c.typ, Bytes: c.der}), 0o600))
		pubDER, err := x509.MarshalPKIXPublicKey(c.pub)
		require.NoError(t, err)
		pubFile := filepath.Join(dir, c.name+".pub.pem")
		require.NoError(t, os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600))
		tok, err := MintJWT(JWTArgs{KeyFile: keyFile, KeyID: "k", Subject: "bob", Tenant: "t", Databases: []string{"a", "b"}}, time.Now())
		require.NoError(t, err, c.name)
		id, err := verifier(t, jwtauth.Config{KeyFiles: []string{pubFile}}).Verify(tok)
		require.NoError(t, err, c.name)
		require.Equal(t, []string{"a", "b"}, id.Databases)
	}
	_, err = MintJWT(JWTArgs{KeyFile: filepath.Join(dir, "rsa.pem"), Alg: "ES256", Subject: "x"}, time.Now())
	require.ErrorContains(t, err, "ES256 with this key")
	_, err = MintJWT(JWTArgs{KeyFile: filepath.Join(dir, "rsa.pub.pem"), Subject: "x"}, time.Now())
	require.ErrorContains(t, err, "not a private key")
}

func TestMintJWTErrors(t *testing.T) {
	env := func(string) (string, bool) { return cliSecret, true }
	for _, c := range []struct {
		args JWTArgs
		want string
	}{
		{JWTArgs{SecretEnv: "S", LookupEnv: env}, "--subject is required"},
		{JWTArgs{Subject: "a"}, "exactly one of"},
		{JWTArgs{Subject: "a", SecretEnv: "S", SecretFile: "f", LookupEnv: env}, "exactly one of"},
		{JWTArgs{Subject: "a", SecretEnv: "S", LookupEnv: func(string) (string, bool) { return "", false }}, "unset or empty"},
		{JWTArgs{Subject: "a", SecretEnv: "S", LookupEnv: func(string) (string, bool) { return "short", true }}, "at least 32"},
		{JWTArgs{Subject: "a", SecretEnv: "S", LookupEnv: env, Alg: "RS256"}, "a secret signs HS256"},
		{JWTArgs{Subject: "a", SecretEnv: "S", LookupEnv: func(string) (string, bool) { return strings.Repeat("s", 63), true }, Alg: "HS512"}, "--alg HS512 needs a secret of at least 64 bytes"},
		{JWTArgs{Subject: "a", SecretEnv: "S", LookupEnv: func(string) (string, bool) { return strings.Repeat("s", 47), true }, Alg: "HS384"}, "--alg HS384 needs a secret of at least 48 bytes"},
		{JWTArgs{Subject: "a", SecretEnv: "S", LookupEnv: env, Lifetime: -time.Second}, "--lifetime"},
		{JWTArgs{Subject: "a", SecretEnv: "S", LookupEnv: env, Collections: []string{"docs"}}, "want name=level"},
		{JWTArgs{Subject: "a", SecretEnv: "S", LookupEnv: env, Collections: []string{"docs=root"}}, "unknown access level"},
	} {
		_, err := MintJWT(c.args, time.Now())
		require.ErrorContains(t, err, c.want)
		if err != nil {
			require.NotContains(t, err.Error(), cliSecret)
		}
	}
}
