package chromaauth

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/audit"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
)

var updateGolden = flag.Bool("update-audit-golden", false, "rewrite testdata/audit_lines.golden")

// fixedClock stamps every audit line with the same time.
type fixedClock struct{}

func (fixedClock) Now() time.Time                         { return time.Unix(1795610900, 250000000) }
func (fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

// TestAuditLinesGolden: the audit's lines, byte for byte as Caddy's `format
// json` writes them (zap's production JSON encoder), are those of
// testdata/audit_lines.golden, made before the audit's cost was cut (issue
// 26): a change in how the line is handed to zap changes nothing users
// read. The audit's own output (`audit { output … }`) writes the same
// bytes, its line written by hand. Each request's id is made by the test (Caddy's
// {http.request.uuid}) and stands as REQUEST_ID in the file.
func TestAuditLinesGolden(t *testing.T) {
	golden := filepath.Join("testdata", "audit_lines.golden")
	if *updateGolden {
		require.NoError(t, os.WriteFile(golden, []byte(auditGoldenLines(t, false)), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), auditGoldenLines(t, false), "through Caddy's logging")
	require.Equal(t, string(want), auditGoldenLines(t, true), "to the audit's own output (audit { output … })")
}

// auditGoldenLines are the lines of the golden cases, written through a
// zap logger as Caddy's `format json` (own false) or to the audit's own
// output (own true).
func auditGoldenLines(t *testing.T, own bool) string {
	var out bytes.Buffer
	handler := func(extra func(*config.Handler)) *ChromaAuth {
		h := hotUsersHandler(t, func(c *config.Handler) {
			c.FailuresPerMinute = -1
			if extra != nil {
				extra(c)
			}
		})
		h.owners.Learn(hotColl, "default_tenant", "default_database", "bench-0005")
		enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
		h.Audit = &Audit{}
		h.auditLog = zap.New(zapcore.NewCore(enc, zapcore.AddSync(&out), zap.InfoLevel), zap.WithClock(fixedClock{})).Named("http.handlers.chroma_auth.audit")
		if own {
			h.auditLog = zap.NewNop() // nothing goes there
			h.auditOut = audit.NewOutput(&out, fixedClock{}.Now, nil)
		}
		return h
	}
	rbacFile := writeTestFile(t, t.TempDir(), "rbac.yaml", hotRBAC)
	plain, rbac := handler(nil), handler(func(c *config.Handler) { c.AuthzFile = rbacFile })

	var upstreamErr error
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if upstreamErr != nil {
			return upstreamErr
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	})
	const unnamed = "11111111-0000-4000-8000-000000000009"
	const scoped = "Bearer tok-scoped-0123456789abcdef"
	cases := []struct {
		h                          *ChromaAuth
		method, target, auth, body string
		upstreamErr                error
	}{
		{plain, "GET", hotCount, "Bearer " + hotToken, "", nil}, // the bench's request
		{plain, "GET", hotByID, "Bearer " + hotToken, "", nil},
		{plain, "GET", hotDB + "/collections/" + unnamed + "/count", "Bearer " + hotToken, "", nil},
		{plain, "POST", hotDB + "/collections/docs/add", "Bearer " + hotToken, `{"ids":["a"]}`, nil},
		{plain, "GET", hotListing, "Bearer " + hotToken, "", caddyhttp.Error(http.StatusBadGateway, errors.New("dial tcp: refused"))},
		{rbac, "GET", hotByID, scoped, "", nil},
		{rbac, "GET", hotCount, "Bearer " + hotToken, "", nil},
		{rbac, "GET", "/api/v2/tenants/other/databases/prod/collections", scoped, "", nil},
		{rbac, "POST", hotListing, scoped, `{"name":"bench-0099","get_or_create":true}`, nil},
		{rbac, "PUT", "/api/v2/tenants/default_tenant/databases/default_database/collections/" + hotColl, scoped, `{"new_name":"bench-0007"}`, nil},
		{plain, "GET", hotCount, "", "", nil},
		{plain, "GET", hotCount, "Bearer chk_0ZWit9TDsSqr3TMB_" + strings.Repeat("x", 43), "", nil},
		{plain, "GET", hotCount, "Bearer wrong-token", "", nil},
		{plain, "GET", hotCount, basicHeader("bob", "secret"), "", nil},
	}
	var got strings.Builder
	for _, c := range cases {
		r := auditRequest(c.method, c.target, map[string]string{"Content-Type": "application/json"})
		if c.body != "" {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(c.body)), int64(len(c.body))
		}
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		id, _ := repl.GetString("http.request.uuid")
		require.Len(t, id, 36)
		upstreamErr = c.upstreamErr
		out.Reset()
		_ = c.h.ServeHTTP(&codeWriter{h: http.Header{}}, r, next)
		line := out.String()
		require.Equal(t, 1, strings.Count(line, "\n"), "%s %s: one line", c.method, c.target)
		require.Equal(t, 1, strings.Count(line, id), "%s %s: the request's own id", c.method, c.target)
		got.WriteString(strings.Replace(line, id, "REQUEST_ID", 1))
	}
	return got.String()
}
