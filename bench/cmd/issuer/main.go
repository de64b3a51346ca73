// Command issuer is the benchmark's identity provider: it makes an RSA and
// an EC signing key and an HMAC secret, serves an OpenID Connect discovery
// document and the public keys (JWKS) on a loopback address, and writes
// one token of each algorithm (RS256, ES256, HS256) to -out, so that every
// JWT-checking gateway of bench/run.sh verifies the same tokens against the
// same issuer.
//
//	go run ./bench/cmd/issuer -addr 127.0.0.1:18009 -out bench/out/run/jwt
//
// It writes, in -out: rs256.jwt, es256.jwt, hs256.jwt, hs256.secret (the
// secret, 64 hexadecimal characters), rsa-public.pem and ec-public.pem (the
// public keys, for gateways that take static keys), rsa-cert.pem and
// ec-cert.pem (the same keys in self-signed certificates) and issuer.url, then
// serves until killed.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18009", "loopback address to serve discovery and keys on")
	tlsAddr := flag.String("tls-addr", "", "loopback address to serve the same over HTTPS (self-signed) too")
	out := flag.String("out", "bench/out/run/jwt", "folder to write the tokens and the secret to")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("issuer: -addr %q: only loopback addresses", *addr)
	}
	issuer := "http://" + *addr
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	secret := make([]byte, 32)
	_, err = rand.Read(secret)
	must(err)
	secretHex := hex.EncodeToString(secret) // 64 characters: the secret as configured

	must(os.MkdirAll(*out, 0o755))
	write := func(name, content string) { must(os.WriteFile(filepath.Join(*out, name), []byte(content), 0o644)) }
	write("rs256.jwt", sign(jose.RS256, rsaKey, "rsa-1", issuer))
	write("es256.jwt", sign(jose.ES256, ecKey, "ec-1", issuer))
	write("hs256.jwt", sign(jose.HS256, []byte(secretHex), "", issuer))
	write("hs256.secret", secretHex)
	write("issuer.url", issuer)
	write("rsa-public.pem", publicPEM(rsaKey.Public()))
	write("ec-public.pem", publicPEM(ecKey.Public()))
	write("rsa-cert.pem", selfSigned(rsaKey))
	write("ec-cert.pem", selfSigned(ecKey))

	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: rsaKey.Public(), KeyID: "rsa-1", Algorithm: string(jose.RS256), Use: "sig"},
		{Key: ecKey.Public(), KeyID: "ec-1", Algorithm: string(jose.ES256), Use: "sig"},
	}})
	must(err)
	discovery, err := json.Marshal(map[string]any{
		"issuer":                                issuer,
		"jwks_uri":                              issuer + "/jwks.json",
		"authorization_endpoint":                issuer + "/authorize",
		"token_endpoint":                        issuer + "/token",
		"userinfo_endpoint":                     issuer + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
	})
	must(err)
	mux := http.NewServeMux()
	serveJSON := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}
	}
	mux.Handle("/.well-known/openid-configuration", serveJSON(discovery))
	mux.Handle("/jwks.json", serveJSON(jwks))
	if *tlsAddr != "" {
		// mod_auth_openidc fetches keys only over HTTPS, and 2.4.12 takes
		// no EC key from a file: it gets the same JWKS here.
		tlsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		tlsSrv := &http.Server{Addr: *tlsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{selfSignedDER(tlsKey)}, PrivateKey: tlsKey}}}}
		go func() { log.Fatal(tlsSrv.ListenAndServeTLS("", "")) }()
	}
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// sign makes a token valid for two hours, for user "bench" and audience
// "chroma", with an email (oauth2-proxy wants one).
func sign(alg jose.SignatureAlgorithm, key any, kid, issuer string) string {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	if k, ok := key.(crypto.Signer); ok {
		key = k
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	must(err)
	now := time.Now()
	claims := map[string]any{
		"iss":            issuer,
		"sub":            "bench",
		"aud":            "chroma",
		"iat":            now.Unix(),
		"nbf":            now.Add(-time.Minute).Unix(),
		"exp":            now.Add(2 * time.Hour).Unix(),
		"email":          "bench@example.com",
		"email_verified": true,
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	must(err)
	return tok
}

// publicPEM is a public key as a PEM "PUBLIC KEY" block, for the gateways
// that take static keys from files.
func publicPEM(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	must(err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// selfSigned is a certificate of key signed by itself, for gateways that
// take keys only as certificates.
func selfSigned(key crypto.Signer) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: selfSignedDER(key)}))
}

func selfSignedDER(key crypto.Signer) []byte {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "bench issuer"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	must(err)
	return der
}

func must(err error) {
	if err != nil {
		log.Fatal("issuer: ", err)
	}
}
