package quota

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// Key names what a quota is counted against: an identity (a user, an
// API key) or, with `per tenant`, a tenant.
type Key struct {
	Kind byte // KindUser, KindKey or KindTenant
	Name string
}

// The kinds of Key.
const (
	KindUser   = 'u'
	KindKey    = 'k'
	KindTenant = 't'
)

// String is the key as the shared store names it: "u:alice".
func (k Key) String() string { return string(k.Kind) + ":" + k.Name }

const (
	shardBits = 4
	shards    = 1 << shardBits
	// maxTracked bounds the keys remembered by a Buckets or a Counter.
	maxTracked = 100000
)

var seed = maphash.MakeSeed()

func shardOf(k Key) int {
	return int(maphash.String(seed, k.Name)>>(64-shardBits)) ^ int(k.Kind&(shards-1))
}

// Buckets are token buckets, one per key, in this process: the rate and
// burst of each request's limits refill and bound its key's bucket.
type Buckets struct {
	shards [shards]bucketShard
}

type bucketShard struct {
	mu sync.Mutex
	m  map[Key]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// Take takes one request from k's bucket at now. When none is left it
// returns false and how long until one is.
func (b *Buckets) Take(k Key, rate Rate, burst int, now time.Time) (bool, time.Duration) {
	return b.TakeN(k, rate, burst, 1, now)
}

// TakeN takes n requests at once from k's bucket, or none.
func (b *Buckets) TakeN(k Key, rate Rate, burst, n int, now time.Time) (bool, time.Duration) {
	s := &b.shards[shardOf(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[Key]*bucket)
	}
	bk := s.m[k]
	if bk == nil {
		if len(s.m) >= maxTracked/shards {
			sweep(s.m, now, rate, burst)
		}
		bk = &bucket{tokens: float64(burst), last: now}
		s.m[k] = bk
	}
	refill(bk, rate, burst, now)
	if bk.tokens < float64(n) {
		return false, wait(float64(n)-bk.tokens, rate)
	}
	bk.tokens -= float64(n)
	return true, 0
}

func refill(bk *bucket, rate Rate, burst int, now time.Time) {
	if el := now.Sub(bk.last); el > 0 {
		bk.tokens = math.Min(float64(burst), bk.tokens+el.Seconds()*float64(rate))
		bk.last = now
	}
	bk.tokens = math.Min(bk.tokens, float64(burst)) // a smaller burst since
}

func wait(missing float64, rate Rate) time.Duration {
	if rate <= 0 {
		return time.Second
	}
	return time.Duration(missing / float64(rate) * float64(time.Second))
}

// sweep forgets the buckets that are full again (they hold nothing), and
// if that is not enough, half the rest.
func sweep(m map[Key]*bucket, now time.Time, rate Rate, burst int) {
	for k, bk := range m {
		refill(bk, rate, burst, now)
		if bk.tokens >= float64(burst) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) <= maxTracked/shards/2 {
			break
		}
		delete(m, k)
	}
}

// Counter counts the requests in flight per key.
type Counter struct {
	shards [shards]counterShard
}

type counterShard struct {
	mu sync.Mutex
	m  map[Key]int
}

// Acquire counts one more request of k in flight, unless limit are.
func (c *Counter) Acquire(k Key, limit int) bool {
	s := &c.shards[shardOf(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[Key]int)
	}
	n := s.m[k]
	if n >= limit {
		return false
	}
	s.m[k] = n + 1
	return true
}

// Release counts one request of k less in flight.
func (c *Counter) Release(k Key) {
	s := &c.shards[shardOf(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.m[k]; n > 1 {
		s.m[k] = n - 1
	} else {
		delete(s.m, k)
	}
}

// InFlight is how many requests of k are in flight.
func (c *Counter) InFlight(k Key) int {
	s := &c.shards[shardOf(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}
