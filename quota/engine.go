package quota

import (
	"time"
)

// Shared is a store of rate buckets shared by several gateways (Redis).
type Shared interface {
	// Take takes one request from k's shared bucket. handled is false
	// when the store cannot answer now: the caller then counts locally.
	Take(k Key, rate Rate, burst int, now time.Time) (ok bool, wait time.Duration, handled bool)
}

// Reason says which quota refused a request.
type Reason string

// The quotas that refuse a request before it is read.
const (
	ReasonRate       Reason = "rate"
	ReasonConcurrent Reason = "concurrent"
)

// Engine counts the rate and concurrency quotas of every key: rate in
// Shared when it is set and answers, else in this process; concurrency
// always in this process (a per-gateway limit: counting it elsewhere
// would cost a round trip on every request and its end).
type Engine struct {
	Buckets Buckets
	Counter Counter
	Shared  Shared           // nil: every count is local
	Now     func() time.Time // nil: time.Now
}

// Ticket is an admitted request; give it back with Done when the request
// ends.
type Ticket struct {
	key  Key
	held bool // a concurrency slot is held
}

// Admit decides whether k may send one more request under l. It takes
// the concurrency slot first (cheap and given back at once), then a
// request from the rate bucket: a request refused for concurrency costs
// no rate.
func (e *Engine) Admit(k Key, l Limits) (t Ticket, refused Reason, wait time.Duration) {
	t.key = k
	if l.Concurrent > 0 {
		if !e.Counter.Acquire(k, l.Concurrent) {
			return t, ReasonConcurrent, time.Second
		}
		t.held = true
	}
	if l.Rate > 0 {
		if ok, w := e.take(k, l); !ok {
			e.Done(t)
			return Ticket{}, ReasonRate, w
		}
	}
	return t, "", 0
}

func (e *Engine) take(k Key, l Limits) (bool, time.Duration) {
	now := e.now()
	burst := l.BurstOrDefault()
	if e.Shared != nil {
		if ok, w, handled := e.Shared.Take(k, l.Rate, burst, now); handled {
			return ok, w
		}
	}
	return e.Buckets.Take(k, l.Rate, burst, now)
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Done ends an admitted request.
func (e *Engine) Done(t Ticket) {
	if t.held {
		e.Counter.Release(t.key)
	}
}
