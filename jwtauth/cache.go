package jwtauth

import (
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"hash"
	"sync"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const cacheShards = 16

// tokenCache remembers verified tokens, so a client that sends the same
// token on every request pays for one signature check. It is keyed by
// HMAC-SHA256 of the token under a secret made at start: the token itself
// is never kept, and nobody outside can compute a key. An entry holds
// until the token's exp (never past it, whatever the leeway) and only
// while the key set it was verified with is in force.
type tokenCache struct {
	shards   [cacheShards]cacheShard
	perShard int
	macs     sync.Pool // of *mac
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	id  *providers.Identity
	exp int64  // unix nanoseconds
	gen uint64 // the key set generation it was verified with
}

// mac is a keyed hash with its buffers, reused across requests.
type mac struct {
	h   hash.Hash
	buf []byte
	sum []byte
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	secret := make([]byte, 32)
	if _, err := crand.Read(secret); err != nil {
		panic("jwtauth: no randomness for the cache key: " + err.Error())
	}
	c := &tokenCache{perShard: max(1, (size+cacheShards-1)/cacheShards)}
	c.macs.New = func() any {
		return &mac{h: hmac.New(sha256.New, secret), sum: make([]byte, 0, sha256.Size)}
	}
	for i := range c.shards {
		c.shards[i].m = make(map[[sha256.Size]byte]cacheEntry)
	}
	return c
}

func (c *tokenCache) key(token string) (k [sha256.Size]byte) {
	m := c.macs.Get().(*mac)
	m.buf = append(m.buf[:0], token...)
	m.h.Reset()
	m.h.Write(m.buf)
	copy(k[:], m.h.Sum(m.sum[:0]))
	c.macs.Put(m)
	return k
}

func (c *tokenCache) get(k [sha256.Size]byte, gen uint64, now time.Time) *providers.Identity {
	s := &c.shards[k[0]%cacheShards]
	s.mu.RLock()
	e, ok := s.m[k]
	s.mu.RUnlock()
	if !ok || e.gen != gen || now.UnixNano() >= e.exp {
		return nil
	}
	return e.id
}

// put remembers a verified token. A full shard first drops its expired
// and stale entries, then, if still full, an arbitrary eighth.
func (c *tokenCache) put(k [sha256.Size]byte, id *providers.Identity, exp time.Time, gen uint64, now time.Time) {
	if !now.Before(exp) {
		return // within the leeway only: checked every time
	}
	s := &c.shards[k[0]%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= c.perShard {
		n := now.UnixNano()
		for key, e := range s.m {
			if n >= e.exp || e.gen != gen {
				delete(s.m, key)
			}
		}
		for key := range s.m {
			if len(s.m) < c.perShard-c.perShard/8 {
				break
			}
			delete(s.m, key)
		}
	}
	s.m[k] = cacheEntry{id: id, exp: exp.UnixNano(), gen: gen}
}

func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.RLock()
		n += len(c.shards[i].m)
		c.shards[i].mu.RUnlock()
	}
	return n
}
