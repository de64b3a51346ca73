package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// certCaddyfile is gatewayCaddyfile with Caddy verifying client
// certificates against a CA file (`tls internal { client_auth { … } }`),
// the audit logger routed to a file of its own, and the identity's
// placeholders sent back to the client in response headers (header_down
// is applied after chroma_auth ran, with the request's placeholders).
const certCaddyfile = `{
	admin off
	persist_config off
	skip_install_trust
	auto_https disable_redirects
	storage file_system %q
	servers {
		protocols h1 h2
	}
	log {
		exclude http.handlers.chroma_auth.audit
	}
	log chroma_audit {
		output file %q
		format json
		include http.handlers.chroma_auth.audit
	}
}

localhost:%d {
	bind 127.0.0.1
	tls internal {
		client_auth {
			mode %s
			trust_pool file %q
		}
	}
	%s
	reverse_proxy %s {
		header_down X-Auth-User {http.auth.user.id}
		header_down X-Auth-Provider {http.auth.user.provider}
	}
}
`

// certPKI is what the client-certificate tests present: one CA the gateway
// trusts and a certificate per matcher kind, plus the ones that must never
// pass (another CA's, an expired one) and one nobody claims.
type certPKI struct {
	ca                                         *opensslCA
	indexer, reader, mailer, ops, pinned       leafFiles // claimed: by URI, DNS, EMAIL, CN, SHA256
	nobody, expired, foreign                   leafFiles
	pinnedSHA256                               string
	indexerURI, nobodyURI, readerDNS, mailAddr string
}

func newCertPKI(t *testing.T) *certPKI {
	t.Helper()
	dir := t.TempDir()
	p := &certPKI{
		ca:         newOpenSSLCA(t, dir, "clients-ca"),
		indexerURI: "spiffe://example.org/ns/prod/sa/indexer",
		nobodyURI:  "spiffe://example.org/ns/prod/sa/nobody",
		readerDNS:  "reader.svc.example.org",
		mailAddr:   "mailer@example.org",
	}
	p.indexer = p.ca.issue(t, leafSpec{name: "indexer", cn: "indexer-host", sans: []string{"URI:" + p.indexerURI}})
	p.reader = p.ca.issue(t, leafSpec{name: "reader", cn: "reader-host", sans: []string{"DNS:Reader.Svc.Example.org"}})
	p.mailer = p.ca.issue(t, leafSpec{name: "mailer", cn: "mailer-host", sans: []string{"email:mailer@Example.ORG"}})
	p.ops = p.ca.issue(t, leafSpec{name: "ops", cn: "ops"})
	p.pinned = p.ca.issue(t, leafSpec{name: "pinned", cn: "pinned-host"})
	p.pinnedSHA256 = sha256Of(t, p.pinned.crt)
	p.nobody = p.ca.issue(t, leafSpec{name: "nobody", cn: "nobody", sans: []string{"URI:" + p.nobodyURI}})
	// Both claim users' matchers (the indexer's URI, the ops CN): only the
	// handshake stands between them and those users.
	p.expired = p.ca.issue(t, leafSpec{name: "expired", cn: "ops", sans: []string{"URI:" + p.indexerURI}, expired: true})
	other := newOpenSSLCA(t, filepath.Join(dir), "other-ca")
	p.foreign = other.issue(t, leafSpec{name: "foreign", cn: "ops", sans: []string{"URI:" + p.indexerURI}})
	return p
}

// usersYAML is the users file: the certificate users of tenant, the
// Basic user of the suite's htpasswd file and a token user beside them.
// extra is appended (more users).
func (p *certPKI) usersYAML(tenant, token, extra string) string {
	return fmt.Sprintf(`users:
  - id: indexer
    tenant: %[1]s
    databases: [prod]
    collections: {docs: write}
    certs: [%[2]q]
  - id: reader-svc
    tenant: %[1]s
    databases: [prod]
    collections: {docs: read}
    certs: ["DNS=%[3]s"]
  - id: mailer
    tenant: %[1]s
    databases: [prod]
    certs: ["EMAIL=%[4]s"]
  - id: ops
    certs: ["CN=ops"]
  - id: pinned
    tenant: %[1]s
    databases: [prod]
    certs: ["SHA256=%[5]s"]
  - id: %[6]s
    tenant: %[1]s
    databases: [prod]
  - id: token-user
    tenant: %[1]s
    databases: [prod]
    tokens: [%[7]q]
%[8]s`, tenant, "URI="+p.indexerURI, p.readerDNS, p.mailAddr, p.pinnedSHA256, suite.creds.user, token, extra)
}

// certGateway is a gateway verifying client certificates, its users file
// and its audit file.
type certGateway struct {
	*gateway
	users, audit string
}

// startCertGateway runs the gateway binary with client_auth mode and the
// chroma_auth lines given, the PKI's CA as trust pool. ready presents a
// certificate to the readiness check (for require_and_verify).
func startCertGateway(t *testing.T, p *certPKI, mode, users, chromaAuth string, ready leafFiles) *certGateway {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	require.NoError(t, err)
	storage := filepath.Join(dir, "caddy-storage")
	cg := &certGateway{users: filepath.Join(dir, "users.yaml"), audit: filepath.Join(dir, "audit.log")}
	require.NoError(t, os.WriteFile(cg.users, []byte(users), 0o600))
	directive := strings.ReplaceAll(chromaAuth, "USERS", cg.users)
	config := filepath.Join(dir, "Caddyfile")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, certCaddyfile, storage, cg.audit, port, mode, p.ca.pem,
		directive, suite.chroma.addr), 0o600))
	run := gatewayRun{dir: dir, config: config, port: port, storage: storage, cwd: dir}
	if ready.crt != "" {
		run.ready = func(caRoot string) (*http.Client, error) {
			return certHTTPClient(t, &gateway{caRoot: caRoot}, ready), nil
		}
	}
	cg.gateway = runGateway(t, run)
	return cg
}

// auditLines are the audit file's lines so far, once at least n are there
// (they are written as the decisions are taken).
func (cg *certGateway) auditLines(t *testing.T, n int) []map[string]any {
	t.Helper()
	var raw []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		raw, _ = os.ReadFile(cg.audit)
		if strings.Count(string(raw), "\n") >= n || time.Now().After(deadline) {
			break
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		lines = append(lines, m)
	}
	require.GreaterOrEqual(t, len(lines), n, "audit lines:\n%s", raw)
	return lines
}

// identityOf is the gateway's answer to GET /api/v2/auth/identity.
type identityOf struct {
	UserID    string   `json:"user_id"`
	Tenant    string   `json:"tenant"`
	Databases []string `json:"databases"`
}

func parseIdentity(t *testing.T, body string) identityOf {
	t.Helper()
	var id identityOf
	require.NoError(t, json.Unmarshal([]byte(body), &id), body)
	return id
}

// bodyOf is the body of curl --include output (headers, blank line, body).
func bodyOf(out string) string {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if i := strings.LastIndex(out, "\n\n"); i >= 0 {
		return out[i+2:]
	}
	return out
}

// headerOf is one response header of curl --include output ("" if none).
func headerOf(out, name string) string {
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// replaceFile puts text in path at once (a rename), as an editor or a
// config manager does: a reload never reads half a file.
func replaceFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".new"
	require.NoError(t, os.WriteFile(tmp, []byte(text), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}
