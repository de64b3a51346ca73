package cli

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Lifetimes of a minted token.
const (
	DefaultJWTLifetime = time.Hour
	MaxJWTLifetime     = 366 * 24 * time.Hour
)

// JWTArgs are the arguments of `caddy chroma-auth jwt`. The token's
// scope goes into a `chroma` claim: {"tenant", "databases", "role",
// "collections"}, which the gateway reads with tenant_claim chroma.tenant
// and the like.
type JWTArgs struct {
	SecretFile string // a file holding the HMAC secret
	SecretEnv  string // an environment variable holding it
	KeyFile    string // or a PEM private key (RSA, EC, Ed25519)
	Alg        string // default: HS256 with a secret, else by the key
	KeyID      string // the kid header, for a key among several

	Subject     string
	Issuer      string
	Audience    []string
	Tenant      string
	Databases   []string
	Role        string
	Collections []string // name=level, e.g. docs=read, team-*=write
	Lifetime    time.Duration

	LookupEnv func(string) (string, bool) // os.LookupEnv when nil
}

// RunJWT runs `caddy chroma-auth jwt`: it prints a signed token.
func RunJWT(rw IO, a JWTArgs) (int, error) {
	tok, err := MintJWT(a, time.Now())
	if err != nil {
		return ExitFailed, err
	}
	fmt.Fprintln(rw.Stdout, tok)
	return ExitOK, nil
}

// MintJWT signs a token of the arguments' claims, issued at now.
func MintJWT(a JWTArgs, now time.Time) (string, error) {
	if a.Subject == "" {
		return "", errors.New("jwt: --subject is required")
	}
	lifetime := a.Lifetime
	if lifetime == 0 {
		lifetime = DefaultJWTLifetime
	}
	if lifetime < 0 || lifetime > MaxJWTLifetime {
		return "", fmt.Errorf("jwt: --lifetime %s: want more than 0 and at most %s", lifetime, MaxJWTLifetime)
	}
	key, alg, err := signingKey(a)
	if err != nil {
		return "", err
	}
	scope, err := scopeClaim(a)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if a.KeyID != "" {
		opts = opts.WithHeader("kid", a.KeyID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("jwt: %s with this key: %v", alg, err)
	}
	std := jwt.Claims{
		Subject:   a.Subject,
		Issuer:    a.Issuer,
		Audience:  jwt.Audience(a.Audience),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(lifetime)),
	}
	b := jwt.Signed(signer).Claims(std)
	if len(scope) > 0 {
		b = b.Claims(map[string]any{"chroma": scope})
	}
	return b.Serialize()
}

// scopeClaim is the `chroma` claim: only what was given.
func scopeClaim(a JWTArgs) (map[string]any, error) {
	scope := map[string]any{}
	if a.Tenant != "" {
		scope["tenant"] = a.Tenant
	}
	if len(a.Databases) > 0 {
		scope["databases"] = a.Databases
	}
	if a.Role != "" {
		scope["role"] = a.Role
	}
	if len(a.Collections) > 0 {
		grants := make(map[string]string, len(a.Collections))
		for _, c := range a.Collections {
			name, level, ok := strings.Cut(c, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("jwt: --collection %q: want name=level, such as docs=read", c)
			}
			grants[name] = level
		}
		if _, err := providers.NewGrants(grants); err != nil {
			return nil, fmt.Errorf("jwt: --collection: %v", err)
		}
		scope["collections"] = grants
	}
	return scope, nil
}

// signingKey reads the one key source given and picks the algorithm.
func signingKey(a JWTArgs) (any, string, error) {
	n := 0
	for _, s := range []string{a.SecretFile, a.SecretEnv, a.KeyFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, "", errors.New("jwt: give exactly one of --secret-file, --secret-env and --key-file")
	}
	if a.KeyFile != "" {
		return privateKey(a.KeyFile, a.Alg)
	}
	var secret []byte
	if a.SecretFile != "" {
		data, err := os.ReadFile(a.SecretFile)
		if err != nil {
			return nil, "", fmt.Errorf("jwt: --secret-file: %w", err)
		}
		secret = bytes.TrimSpace(data)
	} else {
		lookup := a.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(a.SecretEnv)
		if !ok || v == "" {
			return nil, "", fmt.Errorf("jwt: --secret-env %s: the variable is unset or empty", a.SecretEnv)
		}
		secret = []byte(v)
	}
	if len(secret) < 32 {
		return nil, "", fmt.Errorf("jwt: the secret is %d bytes; the gateway wants at least 32", len(secret))
	}
	alg := a.Alg
	if alg == "" {
		alg = "HS256"
	}
	need := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg]
	if need == 0 {
		return nil, "", fmt.Errorf("jwt: --alg %s: a secret signs HS256, HS384 or HS512", alg)
	}
	if len(secret) < need {
		return nil, "", fmt.Errorf("jwt: --alg %s needs a secret of at least %d bytes; the secret is %d", alg, need, len(secret))
	}
	return secret, alg, nil
}

// privateKey reads a PEM private key (PKCS#8, PKCS#1 RSA or SEC 1 EC) and
// the algorithm for it.
func privateKey(file, alg string) (any, string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("jwt: --key-file: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, "", fmt.Errorf("jwt: --key-file %s: no PEM block", file)
	}
	var key crypto.Signer
	switch b.Type {
	case "PRIVATE KEY":
		var k any
		if k, err = x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			key, _ = k.(crypto.Signer)
		}
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, "", fmt.Errorf("jwt: --key-file %s: %q is not a private key", file, b.Type)
	}
	if err != nil || key == nil {
		return nil, "", fmt.Errorf("jwt: --key-file %s: cannot read the private key: %v", file, err)
	}
	def := ""
	switch k := key.(type) {
	case *rsa.PrivateKey:
		def = "RS256"
	case *ecdsa.PrivateKey:
		def = map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384", elliptic.P521(): "ES512"}[k.Curve]
	case ed25519.PrivateKey:
		def = "EdDSA"
	}
	if def == "" {
		return nil, "", fmt.Errorf("jwt: --key-file %s: unsupported key type %T", file, key)
	}
	if alg == "" {
		alg = def
	}
	return key, alg, nil
}
