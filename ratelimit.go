package chromaauth

import (
	"math"
	"sync"
	"time"
)

// DefaultFailuresPerMinute is how many failed credential checks a client
// address may make a minute before it is answered 429.
const DefaultFailuresPerMinute = 60

// maxTrackedClients bounds the limiter's memory under a flood from many
// addresses.
const maxTrackedClients = 100000

// failureLimiter slows down a client address that keeps failing: each
// failure takes a token from the address's bucket, which refills at
// perMinute tokens a minute up to perMinute. An empty bucket means 429
// before any bcrypt runs. Only failures count, so a client with valid
// credentials is never limited, and cached valid credentials are checked
// before the limiter is consulted at all.
type failureLimiter struct {
	perMinute float64
	mu        sync.Mutex
	buckets   map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newFailureLimiter(perMinute int) *failureLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &failureLimiter{perMinute: float64(perMinute), buckets: make(map[string]*bucket)}
}

func (l *failureLimiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(l.perMinute, b.tokens+el.Minutes()*l.perMinute)
		b.last = now
	}
}

// blocked reports whether client has no failures left, and when it may try
// again.
func (l *failureLimiter) blocked(client string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[client]
	if b == nil {
		return 0, false
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return 0, false
	}
	wait := time.Duration((1 - b.tokens) / l.perMinute * float64(time.Minute))
	return wait, true
}

// fail records a failed check by client.
func (l *failureLimiter) fail(client string, now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[client]
	if b == nil {
		if len(l.buckets) >= maxTrackedClients {
			l.sweepLocked(now)
		}
		b = &bucket{tokens: l.perMinute, last: now}
		l.buckets[client] = b
	}
	l.refill(b, now)
	b.tokens = math.Max(0, b.tokens-1)
}

// sweepLocked forgets the addresses whose bucket has refilled; if that is
// not enough (a flood from very many addresses), it forgets half of them:
// a bounded memory matters more than remembering every attacker.
func (l *failureLimiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.perMinute {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < maxTrackedClients/2 {
			break
		}
		delete(l.buckets, k)
	}
}

// size is the number of tracked addresses.
func (l *failureLimiter) size() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
