package chromaauth

import (
	"context"
	"net/http"

	"go.uber.org/zap/zapcore"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// maxAuditWaiting bounds the audit lines waiting for collection names;
// past it a line is written with the names the gateway knows.
const maxAuditWaiting = 1024

// auditLookups starts, for r's audit line, the lookups that name the
// collections r addresses by id: sub-requests through the rest of the
// chain, as the decision's own (proxyFetcher), but on a copy of r with a
// context of its own (a new replacer and variables), so they may run
// after r has been answered without touching what r's access log reads.
// nil outside Caddy's server.
func (h *ChromaAuth) auditLookups(r *http.Request, next caddyhttp.Handler) authz.Lookups {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil {
		return nil
	}
	return func() (context.Context, authz.Fetcher) {
		sub := r.Clone(context.Background())
		sub.Body, sub.GetBody, sub.ContentLength = http.NoBody, nil, 0
		sub = caddyhttp.PrepareRequest(sub, caddy.NewReplacer(), &bufferWriter{header: make(http.Header)}, srv)
		return sub.Context(), &proxyFetcher{h: h, r: sub, next: next}
	}
}

// touchedList is the audit's collections field: each collection with its
// name and id (as far as known), new for a name the body asks for (a
// collection to create, a rename's or a fork's new name), in_body for an
// id the body names.
type touchedList []authz.Touched

func (l touchedList) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, t := range l {
		if err := enc.AppendObject(touchedEntry(t)); err != nil {
			return err
		}
	}
	return nil
}

type touchedEntry authz.Touched

func (t touchedEntry) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if t.Name != "" {
		enc.AddString("name", t.Name)
	}
	if t.ID != "" {
		enc.AddString("id", t.ID)
	}
	if t.New {
		enc.AddBool("new", true)
	}
	if t.InBody {
		enc.AddBool("in_body", true)
	}
	return nil
}
