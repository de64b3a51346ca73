package authz

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probing is the gateway's resolver as Decide sees it: Resolve and Probe
// through one Resolver and Fetcher.
type probing struct {
	v *Resolver
	f Fetcher
}

func (p probing) Resolve(ctx context.Context, tenant, database, id string) (Owner, error) {
	return p.v.Resolve(ctx, p.f, tenant, database, id, 0)
}

func (p probing) Probe(ctx context.Context, tenant, database, id string) error {
	return p.v.Probe(ctx, p.f, tenant, database, id)
}

// TestHiddenAnsweredLikeMadeUp (issue 20, the timing oracle): a scoped
// caller asking by id for a collection that does not exist, for one of
// its database that no grant lets it see, and for one of another tenant
// the gateway knows, gets the same refusal after the same lookup: one
// by-id lookup each, or (an upstream without the by-id route) one listing
// each, waited for alike. Counted, not timed.
func TestHiddenAnsweredLikeMadeUp(t *testing.T) {
	const (
		madeUp = "11111111-2222-4333-8444-555555555555"
		hidden = "22222222-2222-4333-8444-555555555555"
		other  = "33333333-2222-4333-8444-555555555555"
		docs   = "44444444-2222-4333-8444-555555555555"
	)
	for _, byID := range []bool{true, false} {
		o := NewOwners(100)
		f := &fakeFetcher{owners: o, byID: byID, colls: map[string]Owner{
			cid:    {Tenant: "acme", Database: "prod", Name: "bot-a"},
			docs:   {Tenant: "acme", Database: "prod", Name: "docs"},
			hidden: {Tenant: "acme", Database: "prod", Name: "secret"},
			other:  {Tenant: "globex", Database: "prod", Name: "team-b"},
		}}
		v := NewResolver(o)
		v.Relist = 20 * time.Millisecond
		res := probing{v: v, f: f}
		bot := botIdentity(t)
		// Warm: the caller's own collection (the listing, if any, learns
		// the hidden one too); the other tenant's is known as well.
		d := decide(t, nil, bot, "GET", cp+"/count", "", res)
		require.Equal(t, VerdictAllowed, d.Verdict, d.Reason)
		o.Learn(hidden, "acme", "prod", "secret")
		o.Learn(docs, "acme", "prod", "docs")
		o.Learn(other, "globex", "prod", "team-b")

		lookups := func() int32 { return f.lists.Load() + f.byid.Load() }
		var reasons []string
		for _, id := range []string{madeUp, hidden, other} {
			before := lookups()
			d := decide(t, nil, bot, "GET", tp+"/collections/"+id+"/count", "", res)
			assert.Equal(t, VerdictRefused, d.Verdict, "byID=%v %s", byID, id)
			assert.Equal(t, int32(1), lookups()-before, "byID=%v %s: the lookup of a made-up id", byID, id)
			reasons = append(reasons, strings.ReplaceAll(d.Reason, id, "ID"))

			// The same id in a body (add_input) is judged alike.
			before = lookups()
			d = decide(t, nil, bot, "POST", cp+"/attached_functions/f/add_input", `{"input_collection_id":"`+id+`"}`, res)
			assert.Equal(t, VerdictRefused, d.Verdict, "byID=%v %s in a body", byID, id)
			assert.Equal(t, int32(1), lookups()-before, "byID=%v %s in a body", byID, id)
		}
		assert.Equal(t, reasons[0], reasons[1], "byID=%v: hidden like made-up", byID)
		assert.Equal(t, reasons[0], reasons[2], "byID=%v: elsewhere like made-up", byID)

		// A collection the caller sees, with too low a level, is refused
		// at once: its existence is no secret to it.
		before := lookups()
		d = decide(t, nil, bot, "POST", tp+"/collections/"+docs+"/delete", `{"ids":["a"]}`, res)
		assert.Equal(t, VerdictRefused, d.Verdict)
		assert.Equal(t, int32(0), lookups()-before, "byID=%v: a visible collection", byID)

		// When the lookup fails, a hidden id is unavailable, as a made-up one is.
		f.fail.Store(true)
		if !byID {
			for _, id := range []string{madeUp, hidden, other} {
				d := decide(t, nil, bot, "GET", tp+"/collections/"+id+"/count", "", res)
				assert.Equal(t, VerdictUnavailable, d.Verdict, "%s", id)
				assert.True(t, errors.Is(d.Err, ErrUnavailable), "%v", d.Err)
			}
		}
	}
}
