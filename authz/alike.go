package authz

import (
	"context"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Prober is an OwnerResolver that can look a collection id up the way it
// looks up an id it does not know (see Resolver.Probe).
type Prober interface {
	Probe(ctx context.Context, tenant, database, id string) error
}

// hiddenAlike returns the refusal err of collection cid, which the
// caller's grants do not let it see at all, after the lookup a made-up id
// in tenant/database costs: a scoped caller must not tell a hidden
// collection from one that does not exist by how soon it is refused. A
// collection the caller sees (refused for too low a level) is refused at
// once: its existence is no secret to it. When the lookup fails, its error
// is returned, as it would be for a made-up id.
func hiddenAlike(ctx context.Context, owners OwnerResolver, id *providers.Identity, tenant, database, cid string, w Owner, err error) error {
	p, ok := owners.(Prober)
	if !ok || (w.Name != "" && id.Collections.Level(w.Name) != providers.LevelNone) {
		return err
	}
	if perr := p.Probe(ctx, tenant, database, cid); perr != nil {
		return perr
	}
	return err
}
