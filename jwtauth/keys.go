package jwtauth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// key is one verification key: a public key (RSA, EC, Ed25519) or the
// HMAC secret, with the key id and algorithm a JWKS may pin it to.
type key struct {
	kid string
	alg string // "" when the key does not pin one
	pub any    // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte (HMAC)
}

// keySet is an immutable set of keys, swapped whole on every change.
type keySet struct {
	byKID map[string][]key
	all   []key
	gen   uint64 // changes when the keys do; cache entries name it
	print string // fingerprint: same keys, same print
}

func newKeySet(keys []key, gen uint64) *keySet {
	ks := &keySet{byKID: make(map[string][]key), all: keys, gen: gen}
	prints := make([]string, 0, len(keys))
	for _, k := range keys {
		if k.kid != "" {
			ks.byKID[k.kid] = append(ks.byKID[k.kid], k)
		}
		prints = append(prints, k.kid+"|"+k.alg+"|"+keyPrint(k.pub))
	}
	sort.Strings(prints)
	ks.print = strings.Join(prints, ",")
	return ks
}

// keyPrint identifies a key's material (not secret: a digest of public
// keys, and of the HMAC secret only as a keyed-looking SHA-256 that
// leaves the process nowhere).
func keyPrint(pub any) string {
	var b []byte
	if s, ok := pub.([]byte); ok {
		sum := sha256.Sum256(append([]byte("hmac:"), s...))
		return string(sum[:])
	}
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Sprintf("%p", pub)
	}
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// candidates are the keys that may have signed a token with this key id
// and algorithm: the keys of that id, else (no id, or an id no key has)
// every key that names no id; of those, only keys of the algorithm's
// family. A pinned algorithm must match.
func (ks *keySet) candidates(kid, alg string) []key {
	var pool []key
	if kid != "" {
		pool = ks.byKID[kid]
	}
	if len(pool) == 0 {
		for _, k := range ks.all {
			if k.kid == "" || kid == "" {
				pool = append(pool, k)
			}
		}
	}
	out := pool[:0:0]
	for _, k := range pool {
		if keyFits(alg, k) {
			out = append(out, k)
		}
	}
	return out
}

// keyFits reports whether key k may verify alg: HMAC algorithms only with
// the secret, RSA ones only with RSA public keys, ES256/384/512 only with
// P-256/384/521 keys, EdDSA only with Ed25519. This is what rules out
// algorithm confusion (an RS256 public key used as an HS256 secret).
func keyFits(alg string, k key) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch p := k.pub.(type) {
	case []byte:
		return contains(hmacAlgs, alg) && len(p) >= hmacMinLen(alg)
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return p.Curve == elliptic.P256()
		case "ES384":
			return p.Curve == elliptic.P384()
		case "ES512":
			return p.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// parsePEMKeys reads the public keys of a PEM file: PKIX "PUBLIC KEY",
// PKCS#1 "RSA PUBLIC KEY" or "CERTIFICATE". A private key is refused: the
// gateway verifies, it never needs to sign.
func parsePEMKeys(name string, data []byte) ([]key, error) {
	var keys []key
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var pub any
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(b.Bytes); err == nil {
				pub = c.PublicKey
			}
		default:
			if strings.Contains(b.Type, "PRIVATE") {
				return nil, fmt.Errorf("%s: holds a private key (%s); give the public key only", name, b.Type)
			}
			return nil, fmt.Errorf("%s: PEM block %q is not a public key", name, b.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", name, b.Type, err)
		}
		switch pub.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("%s: unsupported key type %T (want RSA, EC or Ed25519)", name, pub)
		}
		keys = append(keys, key{pub: pub})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no PEM public key found", name)
	}
	return keys, nil
}

// CheckStatic reads the key files and the secret file of cfg as Start
// would, for `caddy chroma-auth check`: the number of keys, or what is
// wrong.
func CheckStatic(cfg Config) (int, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	keys, err := loadStatic(&cfg)
	return len(keys), err
}

// loadStatic reads the key files and the secret (file).
func loadStatic(c *Config) ([]key, error) {
	var keys []key
	for _, f := range c.KeyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("jwt: key_file: %w", err)
		}
		ks, err := parsePEMKeys(f, data)
		if err != nil {
			return nil, fmt.Errorf("jwt: key_file %w", err)
		}
		keys = append(keys, ks...)
	}
	secret := c.Secret
	if c.SecretFile != "" {
		data, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("jwt: secret_file: %w", err)
		}
		secret = bytes.TrimSpace(data)
		if len(secret) < MinSecretLen {
			return nil, fmt.Errorf("jwt: secret_file %s: %d bytes; an HMAC secret needs at least %d", c.SecretFile, len(secret), MinSecretLen)
		}
		if err := c.checkSecretLen("secret_file "+c.SecretFile, len(secret)); err != nil {
			return nil, err
		}
	}
	if len(secret) > 0 {
		keys = append(keys, key{pub: bytes.Clone(secret)})
	}
	return keys, nil
}

// parseJWKS reads a JSON Web Key Set. Keys that are not for signatures,
// or of a kind go-jose cannot read, are skipped (providers publish
// encryption keys too); a set with no usable key is an error.
func parseJWKS(data []byte) ([]key, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %v", err)
	}
	var keys []key
	for _, raw := range set.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil || !jwk.Valid() {
			continue
		}
		if jwk.Use != "" && jwk.Use != "sig" {
			continue
		}
		if !jwk.IsPublic() {
			jwk = jwk.Public()
		}
		switch jwk.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			keys = append(keys, key{kid: jwk.KeyID, alg: jwk.Algorithm, pub: jwk.Key})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS: no signing key in the set")
	}
	return keys, nil
}
