package chromaauth

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

const certUsersYAML = `users:
  - id: reader
    role: reader
    tenant: acme
    databases: [prod]
    collections: {docs: read}
    certs: ["URI=spiffe://example.org/reader"]
  - id: ops
    certs: ["CN=ops"]
  - id: alice
    tokens: [tok-alice]
`

// certHarness serves requests through h, with or without a client
// certificate, and tells what the next handler saw.
type certHarness struct {
	t    *testing.T
	h    *ChromaAuth
	seen map[string]string // placeholders the upstream saw; nil when not reached
}

func (c *certHarness) serve(path string, tlsState *tls.ConnectionState, hdr map[string]string) int {
	c.t.Helper()
	c.seen = nil
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		c.seen = map[string]string{}
		for _, k := range []string{"id", "tenant", "databases", "role", "provider"} {
			c.seen[k], _ = repl.GetString("http.auth.user." + k)
		}
		c.seen["authorization"] = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusOK)
		return nil
	})
	r := auditRequest("GET", path, hdr)
	r.TLS = tlsState
	w := httptest.NewRecorder()
	require.NoError(c.t, c.h.ServeHTTP(w, r, next))
	return w.Code
}

// unverified is a connection whose certificate Caddy did not verify
// (client_auth mode request or require).
func unverified(c tls.Certificate) *tls.ConnectionState {
	return &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{c.Leaf}}
}

func TestClientCertIdentity(t *testing.T) {
	ca := newTestCA(t, "clients")
	users := writeTestFile(t, t.TempDir(), "users.yaml", certUsersYAML)
	h, logs := observed(t, &ChromaAuth{Handler: config.Handler{UsersFile: users, ClientCert: &ClientCert{}, Audit: &Audit{}, ReloadInterval: -1, FailuresPerMinute: -1}})
	c := &certHarness{t: t, h: h}
	reader := ca.issue(t, leafOpts{CN: "whatever", URIs: []string{"spiffe://example.org/reader"}})
	ops := ca.issue(t, leafOpts{CN: "ops"})
	nobody := ca.issue(t, leafOpts{CN: "nobody", URIs: []string{"spiffe://example.org/nobody"}})
	both := ca.issue(t, leafOpts{CN: "ops", URIs: []string{"spiffe://example.org/reader"}})
	base := "/api/v2/tenants/acme/databases/prod/collections/"
	lastAudit := func() map[string]any {
		all := logs.TakeAll()
		require.Len(t, all, 1)
		return all[0].ContextMap()
	}

	// The reader's certificate is the reader: its tenant, databases, role
	// and grants.
	require.Equal(t, http.StatusOK, c.serve(base+"docs", ca.verified(reader), nil))
	assert.Equal(t, map[string]string{"id": "reader", "tenant": "acme", "databases": "prod", "role": "reader", "provider": "cert", "authorization": ""}, c.seen)
	l := lastAudit()
	assert.Equal(t, "allowed", l["decision"])
	assert.Equal(t, "reader", l["user"])
	assert.Equal(t, "cert", l["provider"])
	assert.Equal(t, http.StatusForbidden, c.serve(base+"billing", ca.verified(reader), nil), "grants hold")
	assert.Nil(t, c.seen)
	l = lastAudit()
	assert.Equal(t, "forbidden", l["decision"])
	assert.Equal(t, "reader", l["user"])
	assert.Equal(t, http.StatusForbidden, c.serve("/api/v2/tenants/other/databases/prod/collections/docs", ca.verified(reader), nil), "tenant holds")
	assert.Equal(t, http.StatusForbidden, c.serve("/api/v2/tenants/acme/databases/dev/collections/docs", ca.verified(reader), nil), "databases hold")
	logs.TakeAll()

	// A CN matcher; a user with no scope reaches everything.
	require.Equal(t, http.StatusOK, c.serve("/api/v2/tenants/other/databases/x/collections/y", ca.verified(ops), nil))
	assert.Equal(t, "ops", c.seen["id"])
	assert.Equal(t, "*", c.seen["tenant"])
	logs.TakeAll()

	// A verified certificate nobody claims, or two users claim: 401.
	for reason, cert := range map[string]tls.Certificate{reasonCertUnclaimed: nobody, reasonCertAmbiguous: both} {
		assert.Equal(t, http.StatusUnauthorized, c.serve(base+"docs", ca.verified(cert), nil), reason)
		assert.Nil(t, c.seen)
		l = lastAudit()
		assert.Equal(t, reason, l["reason"])
		assert.Equal(t, "cert", l["provider"])
		assert.Nil(t, l["user"])
	}

	// A certificate and a credential header: ambiguous, 401, even when both
	// are good.
	assert.Equal(t, http.StatusUnauthorized, c.serve(base+"docs", ca.verified(reader), bearer("tok-alice")))
	assert.Nil(t, c.seen)
	assert.Equal(t, reasonAmbiguous, lastAudit()["reason"])
	assert.Equal(t, http.StatusUnauthorized, c.serve(base+"docs", ca.verified(reader), map[string]string{"X-Chroma-Token": "tok-alice"}))
	assert.Equal(t, reasonAmbiguous, lastAudit()["reason"])

	// Tokens keep working beside certificates.
	require.Equal(t, http.StatusOK, c.serve(base+"docs", nil, bearer("tok-alice")))
	assert.Equal(t, "alice", c.seen["id"])
	assert.Equal(t, "token", c.seen["provider"])
	assert.Empty(t, c.seen["authorization"], "credential stripped")
	logs.TakeAll()

	// A certificate Caddy did not verify is no identity: the reader's own,
	// presented under client_auth mode request, counts for nothing.
	assert.Equal(t, http.StatusUnauthorized, c.serve(base+"docs", unverified(reader), nil))
	assert.Equal(t, reasonMissing, lastAudit()["reason"])
	require.Equal(t, http.StatusOK, c.serve(base+"docs", unverified(reader), bearer("tok-alice")))
	assert.Equal(t, "alice", c.seen["id"])
}

func TestClientCertOffIgnoresCertificates(t *testing.T) {
	ca := newTestCA(t, "clients")
	users := writeTestFile(t, t.TempDir(), "users.yaml", certUsersYAML)
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{UsersFile: users, ReloadInterval: -1, FailuresPerMinute: -1}})
	c := &certHarness{t: t, h: h}
	reader := ca.issue(t, leafOpts{URIs: []string{"spiffe://example.org/reader"}})
	assert.Equal(t, http.StatusUnauthorized, c.serve("/api/v2/tenants/acme/databases/prod/collections/docs", ca.verified(reader), nil))
	_, warnings, err := h.LoadPolicy(h.src, false)
	require.NoError(t, err)
	require.Len(t, warnings, 1, "certs without client_cert are warned of")
	assert.Contains(t, warnings[0], "client_cert is not set")
}

func TestClientCertRequired(t *testing.T) {
	ca := newTestCA(t, "clients")
	users := writeTestFile(t, t.TempDir(), "users.yaml", certUsersYAML)
	h, logs := observed(t, &ChromaAuth{Handler: config.Handler{UsersFile: users, ClientCert: &ClientCert{Required: true}, Audit: &Audit{}, ReloadInterval: -1, FailuresPerMinute: -1}})
	c := &certHarness{t: t, h: h}
	ops := ca.issue(t, leafOpts{CN: "ops"})
	path := "/api/v2/tenants/t/databases/d/collections"

	assert.Equal(t, http.StatusUnauthorized, c.serve(path, nil, bearer("tok-alice")), "a good token without a certificate")
	assert.Nil(t, c.seen)
	assert.Equal(t, reasonCertRequired, logs.TakeAll()[0].ContextMap()["reason"])
	assert.Equal(t, http.StatusUnauthorized, c.serve(path, unverified(ops), bearer("tok-alice")), "an unverified certificate")
	assert.Equal(t, http.StatusUnauthorized, c.serve(path, nil, nil))
	assert.Equal(t, http.StatusOK, c.serve(path, ca.verified(ops), nil))
	assert.Equal(t, "ops", c.seen["id"])
	// Public routes stay public.
	assert.Equal(t, http.StatusOK, c.serve("/api/v2/heartbeat", nil, nil))
}

// An unclaimed certificate is a failed credential: it spends the address's
// budget like a wrong token; a claimed one passes while the address is
// blocked, as a credential that succeeded before does.
func TestClientCertUnclaimedSpendsFailureBudget(t *testing.T) {
	ca := newTestCA(t, "clients")
	users := writeTestFile(t, t.TempDir(), "users.yaml", certUsersYAML)
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{UsersFile: users, ClientCert: &ClientCert{}, ReloadInterval: -1, FailuresPerMinute: 3}})
	c := &certHarness{t: t, h: h}
	nobody := ca.issue(t, leafOpts{CN: "nobody"})
	ops := ca.issue(t, leafOpts{CN: "ops"})
	path := "/api/v2/tenants/t/databases/d/collections"
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusUnauthorized, c.serve(path, ca.verified(nobody), nil), i)
	}
	assert.Equal(t, http.StatusTooManyRequests, c.serve(path, nil, bearer("tok-wrong")), "budget spent by unclaimed certificates")
	assert.Equal(t, http.StatusOK, c.serve(path, ca.verified(ops), nil), "a claimed certificate is proven by the handshake")
}

// A reload picks up changes to certs: a certificate moves to another user,
// then to none.
func TestClientCertReload(t *testing.T) {
	ca := newTestCA(t, "clients")
	users := writeTestFile(t, t.TempDir(), "users.yaml", "users:\n  - id: svc-a\n    certs: [\"DNS=svc.example\"]\n  - id: svc-b\n    tenant: b\n")
	h := provisioned(t, &ChromaAuth{Handler: config.Handler{UsersFile: users, ClientCert: &ClientCert{}, ReloadInterval: caddy.Duration(10 * time.Millisecond), FailuresPerMinute: -1}})
	c := &certHarness{t: t, h: h}
	svc := ca.issue(t, leafOpts{DNS: []string{"svc.example"}})
	path := "/api/v2/tenants/b/databases/d/collections"
	require.Equal(t, http.StatusOK, c.serve(path, ca.verified(svc), nil))
	require.Equal(t, "svc-a", c.seen["id"])

	replaceFile(t, users, "users:\n  - id: svc-a\n  - id: svc-b\n    tenant: b\n    certs: [\"DNS=SVC.example\"]\n")
	waitFor(t, func() bool { return c.serve(path, ca.verified(svc), nil) == http.StatusOK && c.seen["id"] == "svc-b" }, "the cert moved to svc-b")
	assert.Equal(t, "b", c.seen["tenant"])

	// A broken certs: keeps the last good set. The reload the watcher
	// makes of it is run here too, so the file has been read (and
	// refused) when the assertion that nothing changed is made.
	replaceFile(t, users, "users:\n  - id: svc-a\n    certs: [\"SERIAL=1\"]\n")
	h.reload()
	require.Equal(t, http.StatusOK, c.serve(path, ca.verified(svc), nil))
	require.Equal(t, "svc-b", c.seen["id"])

	replaceFile(t, users, "users:\n  - id: svc-a\n    certs: [\"CN=other\"]\n  - id: svc-b\n    tenant: b\n")
	waitStatus(t, func() int { return c.serve(path, ca.verified(svc), nil) }, http.StatusUnauthorized, "nobody claims it now")
}

func TestClientCertCaddyfile(t *testing.T) {
	for in, want := range map[string]*ClientCert{
		"chroma_auth {\n users_file u.yaml\n client_cert\n}":          {},
		"chroma_auth {\n users_file u.yaml\n client_cert required\n}": {Required: true},
	} {
		var m ChromaAuth
		require.NoError(t, m.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in)), in)
		assert.Equal(t, want, m.ClientCert, in)
	}
	for in, msg := range map[string]string{
		"chroma_auth {\n client_cert maybe\n}":                  "client_cert takes no argument or required",
		"chroma_auth {\n client_cert\n client_cert required\n}": "client_cert given twice",
	} {
		var m ChromaAuth
		assert.ErrorContains(t, m.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in)), msg, in)
	}
	// client_cert with nothing to match against.
	err := (&ChromaAuth{Handler: config.Handler{Tokens: []string{"tok-1"}, ClientCert: &ClientCert{}}}).Validate()
	assert.ErrorContains(t, err, "client_cert needs a users_file")

	// An unknown matcher fails the load, naming the file, line, user and
	// matcher.
	users := writeTestFile(t, t.TempDir(), "users.yaml", "users:\n  - id: a\n    tokens: [tok-a]\n  - id: svc\n    certs: [\"OU=eng\"]\n")
	ctx, cancel := caddy.NewContext(caddy.Context{Context: t.Context()})
	defer cancel()
	err = (&ChromaAuth{Handler: config.Handler{UsersFile: users, ClientCert: &ClientCert{}, ReloadInterval: -1}}).Provision(ctx)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), users+`:4: user "svc": certs[0]: unknown matcher "OU"`), err.Error())

	// A users file with only certs serves with client_cert, and fails
	// without (it would be no credentials at all).
	only := writeTestFile(t, t.TempDir(), "users.yaml", "users:\n  - id: svc\n    certs: [\"CN=svc\"]\n")
	provisioned(t, &ChromaAuth{Handler: config.Handler{UsersFile: only, ClientCert: &ClientCert{}, ReloadInterval: -1}})
	assert.Error(t, (&ChromaAuth{Handler: config.Handler{UsersFile: only, ReloadInterval: -1}}).Provision(ctx))
}
