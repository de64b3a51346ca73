package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// opensslCA is a certificate authority made by the openssl binary at test
// time, the way the README shows: `openssl req -x509` for the CA, `openssl
// req` and `openssl x509 -req` for each client certificate.
type opensslCA struct {
	dir, name string
	pem, key  string // the CA certificate and its key
}

// leafFiles are a client certificate and its key, as files.
type leafFiles struct {
	crt, key string
}

// runOpenSSL runs openssl in dir; openssl must be installed (Debian:
// apt-get install openssl).
func runOpenSSL(t *testing.T, dir string, args ...string) string {
	t.Helper()
	_, err := exec.LookPath("openssl")
	require.NoError(t, err, "the end-to-end tests need openssl on PATH")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "openssl %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// newOpenSSLCA makes a self-signed P-256 CA named name in dir.
func newOpenSSLCA(t *testing.T, dir, name string) *opensslCA {
	t.Helper()
	ca := &opensslCA{dir: dir, name: name, pem: filepath.Join(dir, name+".pem"), key: filepath.Join(dir, name+".key")}
	runOpenSSL(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-days", "365", "-keyout", ca.key, "-out", ca.pem, "-subj", "/CN="+name)
	return ca
}

// leafSpec says what a client certificate holds: a subject common name and
// subject alternative names in openssl's syntax (URI:…, DNS:…, email:…).
type leafSpec struct {
	name string // file names
	cn   string
	sans []string
	// expired: valid in January 2020 only (openssl ca with explicit
	// dates; openssl x509 -req cannot date a certificate in the past).
	expired bool
}

// issue makes a client certificate signed by ca.
func (ca *opensslCA) issue(t *testing.T, s leafSpec) leafFiles {
	t.Helper()
	f := leafFiles{crt: filepath.Join(ca.dir, s.name+".crt"), key: filepath.Join(ca.dir, s.name+".key")}
	csr, ext := filepath.Join(ca.dir, s.name+".csr"), filepath.Join(ca.dir, s.name+".ext")
	runOpenSSL(t, ca.dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", f.key, "-out", csr, "-subj", "/CN="+s.cn)
	extText := "extendedKeyUsage=clientAuth\n"
	if len(s.sans) > 0 {
		extText += "subjectAltName=" + strings.Join(s.sans, ",") + "\n"
	}
	require.NoError(t, os.WriteFile(ext, []byte(extText), 0o600))
	if !s.expired {
		runOpenSSL(t, ca.dir, "x509", "-req", "-in", csr, "-CA", ca.pem, "-CAkey", ca.key,
			"-CAcreateserial", "-days", "30", "-extfile", ext, "-out", f.crt)
		return f
	}
	conf := ca.caConfig(t)
	runOpenSSL(t, ca.dir, "ca", "-batch", "-notext", "-config", conf, "-cert", ca.pem, "-keyfile", ca.key,
		"-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-extfile", ext, "-in", csr, "-out", f.crt)
	return f
}

// caConfig writes the least configuration `openssl ca` runs with.
func (ca *opensslCA) caConfig(t *testing.T) string {
	t.Helper()
	db := filepath.Join(ca.dir, ca.name+"-db")
	require.NoError(t, os.MkdirAll(db, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(db, "index.txt"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(db, "serial"), []byte("1000\n"), 0o600))
	conf := filepath.Join(db, "ca.cnf")
	text := fmt.Sprintf(`[ ca ]
default_ca = the_ca
[ the_ca ]
database = %[1]s/index.txt
new_certs_dir = %[1]s
serial = %[1]s/serial
default_md = sha256
policy = any_name
unique_subject = no
[ any_name ]
commonName = supplied
`, db)
	require.NoError(t, os.WriteFile(conf, []byte(text), 0o600))
	return conf
}

// sha256Of is the certificate's fingerprint as openssl prints it
// (AB:CD:…), what a users file's SHA256= matcher takes.
func sha256Of(t *testing.T, crt string) string {
	t.Helper()
	out := runOpenSSL(t, filepath.Dir(crt), "x509", "-in", crt, "-noout", "-fingerprint", "-sha256")
	_, fp, ok := strings.Cut(strings.TrimSpace(out), "=")
	require.True(t, ok, "openssl printed %q", out)
	return fp
}

// certHTTPClient is an HTTP client that trusts only the gateway's CA root
// and presents the client certificate f (none when f is zero).
func certHTTPClient(t *testing.T, g *gateway, f leafFiles) *http.Client {
	t.Helper()
	c, err := trustingHTTPClient(g.caRoot)
	require.NoError(t, err)
	c.Timeout = 30 * time.Second
	if f.crt != "" {
		pair, err := tls.LoadX509KeyPair(f.crt, f.key)
		require.NoError(t, err)
		c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{pair}
	}
	return c
}

// certGW is a gwClient presenting the client certificate f.
func certGW(t *testing.T, g *gateway, f leafFiles) *gwClient {
	t.Helper()
	return &gwClient{t: t, c: certHTTPClient(t, g, f), base: g.url}
}

// curlCert makes one request with curl presenting the client certificate
// f, trusting only the gateway's CA root. It returns curl's error (a
// refused handshake) instead of failing, the status ("000" when no answer
// came) and what curl printed: the response headers and the body.
func curlCert(t *testing.T, g *gateway, f leafFiles, method, path, body string, extra ...string) (string, string, error) {
	t.Helper()
	args := []string{"--silent", "--show-error", "--include", "--cacert", g.caRoot, "--request", method,
		"--write-out", "\n%{http_code}"}
	if f.crt != "" {
		args = append(args, "--cert", f.crt, "--key", f.key)
	}
	if body != "" {
		args = append(args, "--header", "Content-Type: application/json", "--data-binary", body)
	}
	args = append(args, extra...)
	out, err := runCurl(t, append(args, g.url+path)...)
	s := string(out)
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		return s, s, err
	}
	return s[i+1:], s[:i], err
}

// leafOf parses a certificate file (for messages that name what it holds).
func leafOf(t *testing.T, f leafFiles) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(f.crt, f.key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	return leaf
}
