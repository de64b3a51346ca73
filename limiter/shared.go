package limiter

import (
	"net/netip"
	"time"
)

// Shared counts the tries of every address across the gateways naming one
// shared_state (a shared.Store). Each call answers false (not handled)
// while the store is down: the limiter then counts in this process, on
// its local budget.
type Shared interface {
	Take(key string, rate float64, burst int) (ok bool, wait time.Duration, handled bool)
	Give(key string) bool
	Spend(key string) bool
}

// triesKey names an address's bucket of tries in the shared store.
func triesKey(a netip.Addr) string { return "f:" + a.String() }

// reserveShared takes a try from a's shared bucket; handled is false when
// there is no shared store or it is down. The address's entry is made
// here too, so that a credential that passes is remembered as known.
func (l *Limiter) reserveShared(a netip.Addr, now time.Time) (wait time.Duration, ok, handled bool) {
	if l.Shared == nil {
		return 0, false, false
	}
	ok, wait, handled = l.Shared.Take(triesKey(a), l.perMinute/60, int(l.perMinute))
	if handled && ok {
		s := l.shard(a)
		s.mu.Lock()
		l.clientLocked(s, a, now)
		s.mu.Unlock()
	}
	return wait, ok, handled
}

// giveShared gives a reserved try back to a's shared bucket.
func (l *Limiter) giveShared(a netip.Addr) bool {
	return l.Shared != nil && l.Shared.Give(triesKey(a))
}

// spendShared spends a try of a's shared bucket without a reservation.
func (l *Limiter) spendShared(a netip.Addr) bool {
	return l.Shared != nil && l.Shared.Spend(triesKey(a))
}
