package rows

import "sync"

// Locks serialize the check-then-write of row-filtered writes per
// collection. Chroma's own conditional writes exist only on distributed
// Chroma, so between the gateway's check (who owns these ids?) and the
// write, another write could create or take one of the ids: an update or
// upsert holds its collection's lock exclusively from the check to the
// answer; an add holds it shared (adds do not check, but must not slip in
// between another request's check and write). Entries live while held.
type Locks struct {
	mu sync.Mutex
	m  map[string]*lockEntry
}

type lockEntry struct {
	sync.RWMutex
	refs int
}

// NewLocks makes an empty lock set.
func NewLocks() *Locks { return &Locks{m: make(map[string]*lockEntry)} }

func (l *Locks) entry(key string) *lockEntry {
	l.mu.Lock()
	e := l.m[key]
	if e == nil {
		e = &lockEntry{}
		l.m[key] = e
	}
	e.refs++
	l.mu.Unlock()
	return e
}

func (l *Locks) release(key string, e *lockEntry) {
	l.mu.Lock()
	if e.refs--; e.refs == 0 {
		delete(l.m, key)
	}
	l.mu.Unlock()
}

// Lock takes key's lock exclusively; the function returned releases it.
func (l *Locks) Lock(key string) func() {
	e := l.entry(key)
	e.Lock()
	return func() { e.Unlock(); l.release(key, e) }
}

// RLock takes key's lock shared; the function returned releases it.
func (l *Locks) RLock(key string) func() {
	e := l.entry(key)
	e.RLock()
	return func() { e.RUnlock(); l.release(key, e) }
}

// Len is how many collections have a lock held or awaited.
func (l *Locks) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
