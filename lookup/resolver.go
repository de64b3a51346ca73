package lookup

import (
	"context"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// Resolver is the gateway's authz.OwnerResolver for one request: the
// shared authz.Resolver asking through the request's Fetcher (waiting for
// the one lookup in flight), with names no older than MaxAge (0: any).
type Resolver struct {
	Shared  *authz.Resolver
	Fetcher Fetcher
	MaxAge  time.Duration
}

// Resolve implements authz.OwnerResolver.
func (p *Resolver) Resolve(ctx context.Context, tenant, database, id string) (authz.Owner, error) {
	return p.Shared.Resolve(ctx, &p.Fetcher, tenant, database, id, p.MaxAge)
}

// Probe implements authz.Prober: the lookup of an id the caller may not
// see, made as for an id that does not exist (no timing oracle).
func (p *Resolver) Probe(ctx context.Context, tenant, database, id string) error {
	return p.Shared.Probe(ctx, &p.Fetcher, tenant, database, id)
}

// Detached starts, for r's audit line, the lookups that name the
// collections r addresses by id: sub-requests through next as a Fetcher's,
// but on a copy of r with a context of its own (a new replacer and
// variables), so they may run after r has been answered without touching
// what r's access log reads. nil outside Caddy's server.
func Detached(r *http.Request, next caddyhttp.Handler, owners *authz.Owners) authz.Lookups {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil {
		return nil
	}
	return func() (context.Context, authz.Fetcher) {
		sub := r.Clone(context.Background())
		sub.Body, sub.GetBody, sub.ContentLength = http.NoBody, nil, 0
		sub = caddyhttp.PrepareRequest(sub, caddy.NewReplacer(), NewResponse(), srv)
		return sub.Context(), &Fetcher{Owners: owners, R: sub, Next: next}
	}
}

// Interface guards
var (
	_ authz.OwnerResolver = (*Resolver)(nil)
	_ authz.Prober        = (*Resolver)(nil)
)
