package shared

import (
	"context"
	"errors"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// batchWindow is how much of a bucket's rate one lease asks for: a tenth
// of a second's worth, at most a quarter of the burst (so four gateways
// can hold a share at once), at least one.
const batchWindow = 100 * time.Millisecond

// Batch is how many requests a lease asks for at a rate and burst.
func Batch(rate float64, burst int) int {
	b := int(math.Ceil(rate * batchWindow.Seconds()))
	return max(1, min(b, burst/4))
}

// take is a Redis bucket: refilled at rate (tokens a millisecond) up to
// burst, by Redis's clock (every gateway reads the same one); delta is
// added first (shares given back, minus tries spent without a lease), then
// up to want are taken. It answers how many were taken and, when none,
// the milliseconds until one is there. The key expires once the bucket
// would be full again, which is the same as no key.
var take = redis.NewScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local delta = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1])
local ts = tonumber(v[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then tokens = tokens + (now - ts) * rate end
tokens = tokens + delta
if tokens > burst then tokens = burst end
if tokens < 0 then tokens = 0 end
local granted = 0
if want > 0 and tokens >= 1 then
  granted = math.min(want, math.floor(tokens))
  tokens = tokens - granted
end
local wait = 0
if granted == 0 and want > 0 then wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {granted, wait}
`)

// lease is this process's share of one bucket.
type lease struct {
	mu       sync.Mutex
	tokens   int       // leased and not spent
	expires  time.Time // when what is left of tokens goes back
	delta    int       // for Redis with the next call: given back (+), spent without a share (−)
	refused  time.Time // Redis said the bucket is empty until then
	busy     chan struct{}
	waiters  int // requests waiting on busy
	lastUsed time.Time
}

// expire moves what is left of an old share to delta.
func (l *lease) expire(now time.Time) {
	if l.tokens > 0 && now.After(l.expires) {
		l.delta += l.tokens
		l.tokens = 0
	}
}

// Take takes one request from key's bucket of rate (a second) and burst.
// handled is false when the store is down: the caller counts locally.
// Only when this process holds no share of the bucket does it ask Redis,
// for a batch, once for every request waiting on the same key.
func (s *Store) Take(key string, rate float64, burst int) (ok bool, wait time.Duration, handled bool) {
	if !s.up.Load() || rate <= 0 || burst <= 0 {
		return false, 0, false
	}
	l := s.leases.get(key)
	l.mu.Lock()
	for {
		now := time.Now()
		l.lastUsed = now
		l.expire(now)
		if l.tokens > 0 {
			l.tokens--
			l.mu.Unlock()
			return true, 0, true
		}
		if now.Before(l.refused) {
			wait = l.refused.Sub(now)
			l.mu.Unlock()
			return false, wait, true
		}
		if l.busy == nil {
			break
		}
		ch := l.busy
		l.waiters++
		l.mu.Unlock()
		<-ch // the call in flight ends within the timeout
		l.mu.Lock()
		l.waiters--
		if !s.up.Load() {
			l.mu.Unlock()
			return false, 0, false
		}
	}
	ch := make(chan struct{})
	l.busy = ch
	want := max(Batch(rate, burst), 1+l.waiters)
	delta := l.delta
	l.delta = 0
	l.mu.Unlock()

	granted, waitMS, err := s.call(key, rate, burst, want, delta)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.busy = nil
	close(ch)
	if err != nil {
		if !errors.Is(err, redis.ErrClosed) { // a client swapped out after an outage: not a new one
			s.down(err)
		}
		return false, 0, false
	}
	now := time.Now()
	if granted == 0 {
		wait = time.Duration(waitMS) * time.Millisecond
		l.refused = now.Add(wait)
		return false, wait, true
	}
	l.tokens += int(granted) - 1
	l.expires = now.Add(s.opt.Lease)
	return true, 0, true
}

// Give gives back one request taken from key's bucket (a try that turned
// out to be no failure): to this process's share, for Redis with the next
// call. False when the store is down.
func (s *Store) Give(key string) bool {
	return s.adjust(key, func(l *lease, now time.Time) {
		if l.tokens > 0 || now.Before(l.expires) {
			l.tokens++
		} else {
			l.delta++
		}
	})
}

// Spend takes one request from key's bucket that is never refused (a
// failure that reserved nothing): from this process's share, else owed to
// Redis with the next call. False when the store is down.
func (s *Store) Spend(key string) bool {
	return s.adjust(key, func(l *lease, _ time.Time) {
		if l.tokens > 0 {
			l.tokens--
		} else {
			l.delta--
		}
	})
}

// adjust runs change on key's lease under its lock, after dropping a
// share that expired; false (and nothing changed) when the store is down.
func (s *Store) adjust(key string, change func(l *lease, now time.Time)) bool {
	if !s.up.Load() {
		return false
	}
	l := s.leases.get(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.lastUsed = now
	l.expire(now)
	change(l, now)
	return true
}

func (s *Store) call(key string, rate float64, burst, want, delta int) (granted, waitMS int64, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opt.Timeout)
	defer cancel()
	res, err := take.Run(ctx, s.rdb.Load(), []string{s.opt.Prefix + key}, rate/1000, burst, want, delta).Int64Slice()
	if err != nil {
		return 0, 0, err
	}
	if len(res) != 2 {
		return 0, 0, errUnexpected
	}
	return res[0], res[1], nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errUnexpected = constError("unexpected answer from the bucket script")

// leaseMap holds the shares of the keys this process has used, bounded.
type leaseMap struct {
	shards [leaseShards]leaseShard
	seed   maphash.Seed
}

const (
	leaseShards = 16
	maxLeases   = 100000
)

type leaseShard struct {
	mu sync.Mutex
	m  map[string]*lease
}

func (m *leaseMap) init() {
	m.seed = maphash.MakeSeed()
	for i := range m.shards {
		m.shards[i].m = make(map[string]*lease)
	}
}

func (m *leaseMap) get(key string) *lease {
	sh := &m.shards[maphash.String(m.seed, key)%leaseShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	l := sh.m[key]
	if l == nil {
		if len(sh.m) >= maxLeases/leaseShards {
			sweep(sh.m)
		}
		l = new(lease)
		sh.m[key] = l
	}
	return l
}

// sweep forgets the shares that hold nothing and owe nothing, then, if
// the shard is still full, the oldest half's worth at random.
func sweep(m map[string]*lease) {
	now := time.Now()
	for k, l := range m {
		if l.mu.TryLock() {
			l.expire(now)
			idle := l.tokens == 0 && l.delta == 0 && l.busy == nil && !now.Before(l.refused)
			l.mu.Unlock()
			if idle {
				delete(m, k)
			}
		}
	}
	for k := range m {
		if len(m) <= maxLeases/leaseShards/2 {
			return
		}
		delete(m, k)
	}
}

// reset forgets every share (Redis came back, perhaps empty).
func (m *leaseMap) reset() {
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		sh.m = make(map[string]*lease)
		sh.mu.Unlock()
	}
}
