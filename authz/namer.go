package authz

import (
	"context"
	"sync"
	"time"
)

// Lookups starts the lookups of one request: the context they run in
// (with the values the upstream chain needs, ended by nothing but the
// Resolver's timeout) and the Fetcher that makes them.
type Lookups func() (context.Context, Fetcher)

// Namer names the collections requests address by id, for the audit,
// off the requests' path: a name the gateway knows is given at once; an
// unknown id is looked up with the Resolver in a goroutine of its own, so
// no answer waits for it: one lookup per id, which every line that needs
// it meanwhile waits for; what it learns stays in Owners for the next
// line, and an id it did not find is not looked up again for missTTL. At
// most max lines wait for names at once; past that a line is written with
// the names known. Namer is safe for concurrent use.
type Namer struct {
	resolver *Resolver
	max      int

	mu      sync.Mutex
	waiting int
	flights map[string]chan struct{} // by id: closed when its lookup ends
	missed  map[string]time.Time     // ids looked up and not found, when
}

// missTTL is how long an id a lookup did not find is not looked up again.
const missTTL = 10 * time.Second

// maxMissed bounds the ids remembered as not found.
const maxMissed = 10000

// NewNamer names through resolver with at most max lines waiting.
func NewNamer(resolver *Resolver, max int) *Namer {
	return &Namer{resolver: resolver, max: max, flights: map[string]chan struct{}{}, missed: map[string]time.Time{}}
}

// Names calls done with the names of the collections ids of
// tenant/database ("" for one it cannot name). When every id is known (or
// was not found lately), when one would need a lookup but start is nil or
// tenant or database is unknown, or when too many lines wait already,
// done runs at once, on this goroutine, with what is known. Otherwise
// start runs once, on this goroutine, and done runs later on another,
// after the lookups.
func (n *Namer) Names(tenant, database string, ids []string, start Lookups, done func(names []string)) {
	names := make([]string, len(ids))
	var mine, theirs []string // lookups this line makes, and waits for
	var waits []chan struct{}
	n.mu.Lock()
	now := time.Now()
	for i, id := range ids {
		if w, ok := n.resolver.Owners.Get(id); ok && w.Name != "" {
			names[i] = w.Name
			continue
		}
		key, uuid := CanonicalUUID(id)
		if !uuid || now.Sub(n.missed[key]) < missTTL {
			continue
		}
		if ch, ok := n.flights[key]; ok {
			theirs, waits = append(theirs, key), append(waits, ch)
		} else {
			mine = append(mine, key)
		}
	}
	if len(mine)+len(theirs) == 0 || start == nil || tenant == "" || database == "" || n.waiting >= n.max {
		n.mu.Unlock()
		done(names)
		return
	}
	n.waiting++
	for _, key := range mine {
		n.flights[key] = make(chan struct{})
	}
	n.mu.Unlock()
	ctx, f := start()
	go func() {
		for _, key := range mine {
			_, _ = n.resolver.Resolve(ctx, f, tenant, database, key, 0)
			n.landed(key)
		}
		for _, ch := range waits {
			<-ch
		}
		for i, id := range ids {
			if w, ok := n.resolver.Owners.Get(id); ok && names[i] == "" {
				names[i] = w.Name
			}
		}
		n.mu.Lock()
		n.waiting--
		n.mu.Unlock()
		done(names)
	}()
}

// landed ends the lookup of key, remembering a miss.
func (n *Namer) landed(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if w, ok := n.resolver.Owners.Get(key); !ok || w.Name == "" {
		if len(n.missed) >= maxMissed {
			n.missed = map[string]time.Time{}
		}
		n.missed[key] = time.Now()
	}
	close(n.flights[key])
	delete(n.flights, key)
}

// Waiting is how many lines wait for names.
func (n *Namer) Waiting() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.waiting
}
