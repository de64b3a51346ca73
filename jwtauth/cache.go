package jwtauth

import (
	"sync"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/keyed"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

const cacheShards = 16

// tokenCache remembers verified tokens, so a client that sends the same
// token on every request pays for one signature check. It is keyed by a
// keyed digest of the token (keyed.Hash, under keys made at start): the
// token itself is never kept, and nobody outside can compute a key. An entry holds
// until the token's exp (never past it, whatever the leeway) and only
// while the key set it was verified with is in force.
type tokenCache struct {
	shards   [cacheShards]cacheShard
	perShard int
	digest   *keyed.Hash
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[keyed.Digest]cacheEntry
}

type cacheEntry struct {
	id  *providers.Identity
	exp int64  // unix nanoseconds
	gen uint64 // the key set generation it was verified with
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	c := &tokenCache{perShard: max(1, (size+cacheShards-1)/cacheShards), digest: keyed.New()}
	for i := range c.shards {
		c.shards[i].m = make(map[keyed.Digest]cacheEntry)
	}
	return c
}

func (c *tokenCache) key(token string) keyed.Digest { return c.digest.Sum(token) }

func (c *tokenCache) get(k keyed.Digest, gen uint64, now time.Time) *providers.Identity {
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
func (c *tokenCache) put(k keyed.Digest, id *providers.Identity, exp time.Time, gen uint64, now time.Time) {
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
