package authz

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// ErrUnavailable is returned (wrapped) by a Fetcher, and by
// Resolver.Resolve, when the upstream did not answer a lookup: the caller
// should answer 503 with Retry-After, never blame the client.
var ErrUnavailable = errors.New("upstream did not answer the collection lookup")

// Fetcher asks the upstream about collections and feeds what it learns to
// the Owners it was made for. The gateway makes one per request, sending
// sub-requests through the reverse proxy.
type Fetcher interface {
	// ByID looks collection id up in tenant/database with one request
	// (Chroma 1.5.7+'s GET .../collections/by-id/{id}). supported is false
	// when the upstream has no such route.
	ByID(ctx context.Context, tenant, database, id string) (supported bool, err error)
	// List lists every collection of tenant/database.
	List(ctx context.Context, tenant, database string) error
}

// Resolver finds the owner of collection ids the gateway has not seen yet.
// Every request for an unknown id waits for the one lookup in flight: one
// per id where the upstream offers the by-id route, else one listing per
// database, shared by all who need it and bounded in time. After a listing
// the same database is not listed again for Relist, so made-up ids cannot
// make the gateway list a database over and over.
type Resolver struct {
	Owners *Owners
	// Timeout bounds one lookup. Default 10 s.
	Timeout time.Duration
	// Relist is how soon a database may be listed again. Default 2 s.
	Relist time.Duration

	noByID atomic.Bool // the upstream answered that it has no by-id route
	flight singleflight.Group
	mu     sync.Mutex
	listed map[string]time.Time // database key → start of its last good listing
}

// NewResolver resolves into owners.
func NewResolver(owners *Owners) *Resolver {
	return &Resolver{Owners: owners, Timeout: 10 * time.Second, Relist: 2 * time.Second}
}

// Resolve returns the owner of collection id, which a request addresses in
// tenant/database: a *Denied when it is no UUID, lives elsewhere or cannot
// be found there; ErrUnavailable (wrapped) when the upstream did not
// answer; the context's error when the caller gave up.
//
// With maxAge > 0 a name learned longer ago than that is looked up again
// (collection grants judge by the name, and a rename made elsewhere, on
// Chroma or through another gateway, must not leave an old name in
// force); the tenant and database of a collection never change.
func (v *Resolver) Resolve(ctx context.Context, f Fetcher, tenant, database, id string, maxAge time.Duration) (Owner, error) {
	w, err := v.Owners.CheckID(id, tenant, database)
	var den *Denied
	if errors.As(err, &den) && v.Owners.Known(id) {
		// Known to live elsewhere: answered as an id not found there,
		// after the same lookup (no timing oracle).
		if perr := v.Probe(ctx, f, tenant, database, id); perr != nil {
			return Owner{}, perr
		}
		return Owner{}, err
	}
	stale := err == nil && maxAge > 0 && time.Since(w.Seen) > maxAge
	if !errors.Is(err, ErrOwnerUnknown) && !stale {
		return w, err
	}
	asked := time.Now()
	if err := v.Probe(ctx, f, tenant, database, id); err != nil {
		return Owner{}, err
	}
	w, err = v.Owners.CheckID(id, tenant, database)
	if err == nil && stale && w.Seen.Before(asked) {
		// Asked again and not found again: it is gone from there.
		v.Owners.Forget(id)
		err = ErrOwnerUnknown
	}
	if errors.Is(err, ErrOwnerUnknown) {
		return Owner{}, deny("collection %s is not in tenant %s, database %s", shown(id), shown(tenant), shown(database))
	}
	return w, err
}

// Probe looks collection id up in tenant/database exactly as Resolve looks
// up an id it does not know: one by-id lookup, or the database's listing
// (waiting for Relist to pass since the last one). A request for a
// collection the caller may not see (it lives elsewhere, or no grant
// covers it) is refused after the same lookup as one for a made-up id, so
// the time of the answer does not tell them apart. Its errors are those of
// the lookup (ErrUnavailable, the context's).
func (v *Resolver) Probe(ctx context.Context, f Fetcher, tenant, database, id string) error {
	if !v.noByID.Load() {
		key := "id\x00" + tenant + "\x00" + database + "\x00" + id
		_, err := v.shared(ctx, key, func(ctx context.Context) (any, error) {
			supported, err := f.ByID(ctx, tenant, database, id)
			if err == nil && !supported {
				v.noByID.Store(true) // before the flight ends: its waiters list
			}
			return supported, err
		})
		if err != nil {
			return err
		}
	}
	if v.noByID.Load() {
		if _, err := v.list(ctx, f, tenant, database); err != nil {
			return err
		}
	}
	return nil
}

// list lists tenant/database, joining a listing already in flight. A
// database listed less than Relist ago is listed again only once Relist
// has passed: the caller waits for that (a collection made just after a
// listing is found, never refused), and every caller waiting shares the
// one listing, so made-up ids cost at most one listing per database and
// Relist.
func (v *Resolver) list(ctx context.Context, f Fetcher, tenant, database string) (any, error) {
	key := tenant + "\x00" + database
	asked := time.Now()
	for {
		wait := v.Relist - time.Since(v.lastListed(key))
		if wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	return v.shared(ctx, "db\x00"+key, func(ctx context.Context) (any, error) {
		// A listing that began after this caller asked (and ended while
		// this flight was starting) already answers it.
		if last := v.lastListed(key); last.After(asked) && time.Since(last) < v.Relist {
			return nil, nil
		}
		began := time.Now()
		err := f.List(ctx, tenant, database)
		if err == nil {
			v.mu.Lock()
			if v.listed == nil || len(v.listed) > maxTrackedListings {
				v.listed = make(map[string]time.Time)
			}
			v.listed[key] = began
			v.mu.Unlock()
		}
		return nil, err
	})
}

// lastListed is when tenant/database (key) was last listed, zero if never.
func (v *Resolver) lastListed(key string) time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.listed[key]
}

// maxTrackedListings bounds the memory of when databases were listed.
const maxTrackedListings = 100000

// shared runs fn once for every caller of the same key at the same time.
// The lookup runs on its own context, bounded by Timeout and not ended by
// the leading caller going away (it still carries that caller's values,
// which the proxy needs); each caller waits at most until its own context
// ends.
func (v *Resolver) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := v.flight.DoChan(key, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.timeout())
		defer cancel()
		res, err := fn(lctx)
		if err != nil && lctx.Err() != nil && !errors.Is(err, ErrUnavailable) {
			err = errors.Join(ErrUnavailable, err)
		}
		return res, err
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (v *Resolver) timeout() time.Duration {
	if v.Timeout > 0 {
		return v.Timeout
	}
	return 10 * time.Second
}
