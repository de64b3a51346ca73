package authz

import (
	"context"
	"sync"
	"time"
)

// ListingCache shares one listing of a database's collections among the
// callers that need it at about the same time. Filtering a listing for a
// caller with collection grants means reading the whole database from
// Chroma; without sharing, N concurrent callers cost N full listings. A
// listing is kept for at most ttl, so a collection created, renamed or
// deleted past the gateway shows in filtered listings at most ttl late;
// any collection write through the gateway drops it at once (Drop).
//
// Errors are never kept: the callers waiting on a failed listing get its
// error, and the next caller asks again.
type ListingCache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[listingKey]*listing
}

type listingKey struct{ tenant, database string }

// listing is one fetch: done closes when list and err are set.
type listing struct {
	done chan struct{}
	at   time.Time
	list []Collection
	err  error

	// seen memoizes Visible: which collections of list each caller's
	// grants see. It lives and dies with the listing.
	mu      sync.Mutex
	seen    map[any][]int32
	seenLen int
}

// maxSeen bounds the indices a listing memoizes (4 MiB): past it, Visible
// works its answer out again for every new caller.
const maxSeen = 1 << 20

// Listing is a listing Get shared: its collections, and which of them
// a caller's grants see.
type Listing struct{ l *listing }

// Collections are the listing's collections, shared: not to be changed.
func (v Listing) Collections() []Collection {
	if v.l == nil {
		return nil
	}
	return v.l.list
}

// Visible is the indices, in order, of the collections visible keeps.
// Callers whose visible is the same function of the name pass the same
// who (their grants), and the answer is worked out once per listing for
// them all: a filtered listing then costs no grant matching per request.
// who nil: never memoized.
func (v Listing) Visible(who any, visible func(name string) bool) []int32 {
	l := v.l
	if l == nil {
		return nil
	}
	if who != nil {
		l.mu.Lock()
		idx, ok := l.seen[who]
		l.mu.Unlock()
		if ok {
			return idx
		}
	}
	idx := make([]int32, 0, len(l.list))
	for i := range l.list {
		if visible(l.list[i].Name) {
			idx = append(idx, int32(i))
		}
	}
	idx = idx[:len(idx):len(idx)]
	if who != nil {
		l.mu.Lock()
		if l.seenLen+len(idx) <= maxSeen {
			if l.seen == nil {
				l.seen = make(map[any][]int32)
			}
			if _, ok := l.seen[who]; !ok {
				l.seen[who] = idx
				l.seenLen += len(idx)
			}
		}
		l.mu.Unlock()
	}
	return idx
}

// NewListingCache keeps each listing for at most ttl (0: only callers
// that arrive while a listing is being fetched share it).
func NewListingCache(ttl time.Duration) *ListingCache {
	return &ListingCache{ttl: ttl, now: time.Now, m: make(map[listingKey]*listing)}
}

// Get returns the collections of tenant/database: the kept listing when
// it is fresh, the one being fetched when there is one, or a new one from
// fetch. fetch runs without the caller's cancellation, so that a caller
// that goes away does not fail the others waiting on the same listing.
// The returned slice is shared: callers must not change it.
func (c *ListingCache) Get(ctx context.Context, tenant, database string, fetch func(context.Context) ([]Collection, error)) ([]Collection, error) {
	v, err := c.Listing(ctx, tenant, database, fetch)
	return v.Collections(), err
}

// Listing is Get's listing, with what its callers see of it (Visible).
func (c *ListingCache) Listing(ctx context.Context, tenant, database string, fetch func(context.Context) ([]Collection, error)) (Listing, error) {
	key := listingKey{tenant, database}
	c.mu.Lock()
	l := c.m[key]
	if l != nil && !c.usable(l) {
		delete(c.m, key)
		l = nil
	}
	if l == nil {
		l = &listing{done: make(chan struct{})}
		c.m[key] = l
		c.mu.Unlock()
		c.fill(key, l, context.WithoutCancel(ctx), fetch)
	} else {
		c.mu.Unlock()
	}
	select {
	case <-l.done:
		if l.err != nil {
			return Listing{}, l.err
		}
		return Listing{l}, nil
	case <-ctx.Done():
		return Listing{}, ctx.Err()
	}
}

// usable tells a listing that callers may still share: being fetched, or
// fetched without error less than ttl ago. Called with mu held.
func (c *ListingCache) usable(l *listing) bool {
	select {
	case <-l.done:
		return l.err == nil && c.now().Sub(l.at) < c.ttl
	default:
		return true
	}
}

func (c *ListingCache) fill(key listingKey, l *listing, ctx context.Context, fetch func(context.Context) ([]Collection, error)) {
	defer close(l.done)
	l.list, l.err = fetch(ctx)
	l.at = c.now()
	if l.err != nil {
		c.mu.Lock()
		if c.m[key] == l {
			delete(c.m, key)
		}
		c.mu.Unlock()
	}
}

// Drop forgets the listing of tenant/database, kept or being fetched: the
// next caller lists again. A collection write through the gateway calls
// it, so that its own clients never see a listing from before their write.
func (c *ListingCache) Drop(tenant, database string) {
	c.mu.Lock()
	delete(c.m, listingKey{tenant, database})
	c.mu.Unlock()
}
