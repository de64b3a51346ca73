package providers

import (
	crand "crypto/rand"
	"crypto/sha256"
	"math/rand/v2"
	"sync"
)

// DefaultCacheSize bounds the verified-credentials cache.
const DefaultCacheSize = 10000

const cacheShards = 16

// verifiedCache remembers (user, password) pairs that passed bcrypt, so a
// client sending Basic credentials on every request pays for bcrypt once.
// Keys are a keyed SHA-256 of the credentials: no password is kept in
// memory, and nobody outside can compute a key. An entry names the user and
// the hash it was verified against; a hit counts only while the current
// credential set still has that user with that same hash, so a removed user
// or a changed password is refused at once after a reload.
type verifiedCache struct {
	shards   [cacheShards]cacheShard
	perShard int
	salt     [32]byte
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	user string
	hash string
}

func newVerifiedCache(size int) *verifiedCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	c := &verifiedCache{perShard: max(1, (size+cacheShards-1)/cacheShards)}
	if _, err := crand.Read(c.salt[:]); err != nil {
		panic("chroma_auth: no randomness for the cache key: " + err.Error())
	}
	for i := range c.shards {
		c.shards[i].m = make(map[[sha256.Size]byte]cacheEntry)
	}
	return c
}

// maxCredLen bounds what the cache key is computed from on the stack.
const maxCredLen = 4096

// key is SHA-256(salt || user || ":" || password). A user name never holds
// ':' (Basic splits at the first one), so the encoding is unambiguous.
func (c *verifiedCache) key(user, pass string) [sha256.Size]byte {
	var buf [32 + maxCredLen + 1]byte
	if len(user)+len(pass)+1 > maxCredLen {
		b := make([]byte, 0, 32+len(user)+1+len(pass))
		b = append(append(append(append(b, c.salt[:]...), user...), ':'), pass...)
		return sha256.Sum256(b)
	}
	n := copy(buf[:], c.salt[:])
	n += copy(buf[n:], user)
	buf[n] = ':'
	n++
	n += copy(buf[n:], pass)
	return sha256.Sum256(buf[:n])
}

func (c *verifiedCache) shard(k *[sha256.Size]byte) *cacheShard {
	return &c.shards[k[0]%cacheShards]
}

func (c *verifiedCache) get(k [sha256.Size]byte) (cacheEntry, bool) {
	s := c.shard(&k)
	s.mu.RLock()
	e, ok := s.m[k]
	s.mu.RUnlock()
	return e, ok
}

func (c *verifiedCache) put(k [sha256.Size]byte, e cacheEntry) {
	s := c.shard(&k)
	s.mu.Lock()
	if _, ok := s.m[k]; !ok && len(s.m) >= c.perShard {
		s.evictLocked()
	}
	s.m[k] = e
	s.mu.Unlock()
}

// evictLocked drops about a tenth of a full shard at random positions:
// cheap, and fair to a long tail of clients.
func (s *cacheShard) evictLocked() {
	drop := max(1, len(s.m)/10)
	for ; drop > 0 && len(s.m) > 0; drop-- {
		skip := rand.IntN(len(s.m))
		for k := range s.m {
			if skip == 0 {
				delete(s.m, k)
				break
			}
			skip--
		}
	}
}

func (c *verifiedCache) delete(k [sha256.Size]byte) {
	s := c.shard(&k)
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

// prune removes the entries the new credential set no longer vouches for.
func (c *verifiedCache) prune(valid func(cacheEntry) bool) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if !valid(e) {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}

// Len is the number of cached entries.
func (c *verifiedCache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
