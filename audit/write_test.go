package audit

import (
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// TestWriteHandsOneField: a line reaches zap as one inline field (its
// object), not a field per key, so the encoder writes its keys without a
// zap.Field made and switched on for each; they are top-level keys all the
// same (an observer's, or Caddy's filter encoder's, see each by name).
func TestWriteHandsOneField(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	w := Writer{Log: zap.New(core)}
	r := httptest.NewRequest("GET", "/api/v2/tenants/t/databases/d/collections/docs/count", nil)
	rt := authz.ClassifyPath(r.Method, r.URL)
	d := authz.Decision{Verdict: authz.VerdictRefused, Status: 403, Identity: &providers.Identity{User: "alice", Provider: "key", KeyID: "k1"}}
	d.Rule.Role = "reader"
	w.Write(r, &d, &rt, Line{Decision: DecisionForbidden, Status: 403, Reason: "no", ClientIP: "192.0.2.7", RequestID: "id-1"})
	all := logs.TakeAll()
	if len(all) != 1 || len(all[0].Context) != 1 || all[0].Context[0].Type != zapcore.InlineMarshalerType {
		t.Fatalf("want one line with one inline field, got %+v", all)
	}
	got := all[0].ContextMap()
	want := map[string]any{
		"decision": "forbidden", "status": int64(403), "user": "alice", "provider": "key", "key_id": "k1", "role": "reader",
		"method": "GET", "action": "collection:count", "route": "v2 collection_count", "tenant": "t", "database": "d",
		"collection_id": "docs", "reason": "no", "client_ip": "192.0.2.7", "request_id": "id-1",
	}
	if len(got) != len(want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}
