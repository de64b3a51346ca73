package admission

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// creds loads a users file whose alice has her own limits and bob none.
func creds(t *testing.T) *providers.Credentials {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(path, []byte("users:\n  - id: alice\n    tenant: acme\n    tokens: [tok-alice-0123]\n    limits: { rate: 1/m, burst: 1 }\n  - id: bob\n    tenant: acme\n    tokens: [tok-bob-0123]\n"), 0o600))
	c, err := providers.Load(providers.Sources{TokenFiles: []string{path}})
	require.NoError(t, err)
	return c
}

// TestLimitsOfAndKeyOf: the block's limits, replaced by the user's own,
// tightened by the credential's; a key counts on its own, a tenant's
// identities as one with per tenant.
func TestLimitsOfAndKeyOf(t *testing.T) {
	c := creds(t)
	q := New(&config.QuotaConfig{Limits: quota.Limits{Rate: 10, Burst: 20, MaxBatch: 5}})
	alice := &providers.Identity{User: "alice", Tenant: "acme"}
	bob := &providers.Identity{User: "bob", Tenant: "acme"}
	assert.Equal(t, quota.Limits{Rate: 1.0 / 60, Burst: 1, MaxBatch: 5}, q.LimitsOf(c, alice), "a user's limits replace the block's, limit by limit")
	assert.Equal(t, quota.Limits{Rate: 10, Burst: 20, MaxBatch: 5}, q.LimitsOf(c, bob), "the block's, for a user with none")
	key := &providers.Identity{User: "bob", Tenant: "acme", KeyID: "k1", Limits: &quota.Limits{Rate: 2, Burst: 5, MaxBatch: 50}}
	assert.Equal(t, quota.Limits{Rate: 2, Burst: 5, MaxBatch: 5}, q.LimitsOf(c, key), "a key's own only tighten")

	assert.Equal(t, quota.Key{Kind: quota.KindUser, Name: "bob"}, q.KeyOf(bob))
	assert.Equal(t, quota.Key{Kind: quota.KindKey, Name: "k1"}, q.KeyOf(key))
	perTenant := New(&config.QuotaConfig{PerTenant: true})
	assert.Equal(t, quota.Key{Kind: quota.KindTenant, Name: "acme"}, perTenant.KeyOf(key))
	assert.Equal(t, quota.Key{Kind: quota.KindUser, Name: "carol"}, perTenant.KeyOf(&providers.Identity{User: "carol", Tenant: "*"}), "an identity of every tenant counts on its own")
	assert.True(t, New(nil).LimitsOf(c, bob).IsZero(), "no block, no user limits: none")
}

// TestAdmitRefusals: over the rate a 429 refusal with Retry-After and
// Chroma's RateLimitError; over a size a 400 QuotaError naming the limit;
// within them no refusal, and the ticket is ended.
func TestAdmitRefusals(t *testing.T) {
	c := creds(t)
	q := New(&config.QuotaConfig{Limits: quota.Limits{MaxBatch: 1}})
	alice := &providers.Identity{User: "alice", Tenant: "acme"}
	get := httptest.NewRequest(http.MethodGet, "/api/v2/tenants/acme/databases/d/collections", nil)
	tk, no := q.Admit(get, c, alice)
	require.Nil(t, no, "the first request is within alice's burst")
	q.Done(tk)
	_, no = q.Admit(get, c, alice)
	require.NotNil(t, no, "the second is over her rate of 1/m")
	assert.Equal(t, authz.VerdictLimited, no.D.Verdict)
	assert.Equal(t, http.StatusTooManyRequests, no.D.Status)
	assert.Equal(t, ReasonRate, no.D.Reason)
	assert.Same(t, alice, no.D.Identity)
	assert.NotEmpty(t, no.RetryAfter)
	assert.Contains(t, string(no.Body), `"error":"RateLimitError"`)

	bob := &providers.Identity{User: "bob", Tenant: "acme"}
	add := httptest.NewRequest(http.MethodPost, "/api/v2/tenants/acme/databases/d/collections/c/add", strings.NewReader(`{"ids":["a","b"],"embeddings":[[1],[2]]}`))
	add.Header.Set("Content-Type", "application/json")
	_, no = q.Admit(add, c, bob)
	require.NotNil(t, no, "two records are over max_batch 1")
	assert.Equal(t, authz.VerdictBadBody, no.D.Verdict)
	assert.Equal(t, http.StatusBadRequest, no.D.Status)
	assert.Equal(t, ReasonSize, no.D.Reason)
	assert.Empty(t, no.RetryAfter)
	assert.Contains(t, string(no.Body), `"error":"QuotaError"`)
	assert.Contains(t, string(no.Body), "max_batch")
	tk, no = q.Admit(httptest.NewRequest(http.MethodGet, "/api/v2/heartbeat", nil), c, bob)
	assert.Nil(t, no, "a request with no body is within max_batch")
	q.Done(tk)
	assert.Nil(t, q.SharedStore(), "without shared_state the quotas count in memory")
}
