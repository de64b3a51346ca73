package shared_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/shared/redistest"
)

// testCerts holds the test CA and a server certificate for 127.0.0.1;
// the CA is the only root the test binary trusts (SSL_CERT_FILE, read
// when Go first loads the system roots), as an operator would install
// their Redis's CA.
var testCerts string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redistest-certs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := redistest.WriteCerts(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testCerts = dir
	os.Setenv("SSL_CERT_FILE", filepath.Join(dir, "ca.crt"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
