package quota

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBucketBurstThenRate(t *testing.T) {
	var b Buckets
	k := Key{KindUser, "alice"}
	t0 := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if ok, _ := b.Take(k, 1, 3, t0); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := b.Take(k, 1, 3, t0)
	if ok || wait != time.Second {
		t.Fatalf("past the burst: ok %v wait %v", ok, wait)
	}
	if ok, _ := b.Take(Key{KindUser, "bob"}, 1, 3, t0); !ok {
		t.Fatal("another identity has its own bucket")
	}
	if ok, _ := b.Take(Key{KindKey, "alice"}, 1, 3, t0); !ok {
		t.Fatal("a key named like a user has its own bucket")
	}
	if ok, _ := b.Take(k, 1, 3, t0.Add(time.Second)); !ok {
		t.Fatal("one second later one request is allowed")
	}
	if ok, _ := b.Take(k, 1, 3, t0.Add(time.Second)); ok {
		t.Fatal("but only one")
	}
}

// A cold burst: many goroutines at once on one fresh bucket with the
// clock stopped get exactly the burst, every answer checked.
func TestBucketColdBurst(t *testing.T) {
	for round := 0; round < 20; round++ {
		var b Buckets
		now := time.Unix(5000, 0)
		const n, burst = 300, 50
		var allowed, refused atomic.Int64
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				ok, wait := b.Take(Key{KindTenant, "acme"}, 10, burst, now)
				switch {
				case ok && wait == 0:
					allowed.Add(1)
				case !ok && wait > 0:
					refused.Add(1)
				default:
					t.Errorf("inconsistent answer: ok %v wait %v", ok, wait)
				}
			}()
		}
		start.Done()
		wg.Wait()
		if allowed.Load() != burst || refused.Load() != n-burst {
			t.Fatalf("allowed %d refused %d, want %d and %d", allowed.Load(), refused.Load(), burst, n-burst)
		}
	}
}

// A cold burst on the concurrency counter: while every admitted request
// holds its slot, exactly the limit are admitted; once all are done the
// key is forgotten.
func TestCounterColdBurst(t *testing.T) {
	var c Counter
	k := Key{KindKey, "k1"}
	const n, limit = 200, 7
	var admitted, refused atomic.Int64
	var start, wg sync.WaitGroup
	hold := make(chan struct{})
	start.Add(1)
	var got sync.WaitGroup
	got.Add(n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			if !c.Acquire(k, limit) {
				refused.Add(1)
				got.Done()
				return
			}
			admitted.Add(1)
			got.Done()
			<-hold
			c.Release(k)
		}()
	}
	start.Done()
	got.Wait()
	if admitted.Load() != limit || refused.Load() != n-limit || c.InFlight(k) != limit {
		t.Fatalf("admitted %d refused %d in flight %d", admitted.Load(), refused.Load(), c.InFlight(k))
	}
	close(hold)
	wg.Wait()
	if c.InFlight(k) != 0 || len(c.shards[shardOf(k)].m) != 0 {
		t.Fatal("a released key stays counted")
	}
}

func TestEngineConcurrencyCostsNoRate(t *testing.T) {
	now := time.Unix(100, 0)
	e := &Engine{Now: func() time.Time { return now }}
	k := Key{KindUser, "u"}
	l := Limits{Rate: 1, Burst: 2, Concurrent: 1}
	t1, why, _ := e.Admit(k, l)
	if why != "" {
		t.Fatal(why)
	}
	if _, why, wait := e.Admit(k, l); why != ReasonConcurrent || wait <= 0 {
		t.Fatalf("second at once: %q %v", why, wait)
	}
	e.Done(t1)
	t2, why, _ := e.Admit(k, l)
	if why != "" {
		t.Fatalf("the refused one spent the rate: %q", why)
	}
	e.Done(t2)
	if _, why, wait := e.Admit(k, l); why != ReasonRate || wait != time.Second {
		t.Fatalf("past the burst: %q %v", why, wait)
	}
	if e.Counter.InFlight(k) != 0 {
		t.Fatal("a request refused for rate holds its slot")
	}
}

type fakeShared struct {
	handled bool
	ok      bool
	calls   int
}

func (f *fakeShared) Take(Key, Rate, int, time.Time) (bool, time.Duration, bool) {
	f.calls++
	return f.ok, time.Second, f.handled
}

func TestEngineSharedThenLocal(t *testing.T) {
	sh := &fakeShared{handled: true, ok: false}
	e := &Engine{Shared: sh}
	l := Limits{Rate: 100, Burst: 100}
	if _, why, _ := e.Admit(Key{KindUser, "u"}, l); why != ReasonRate {
		t.Fatal("the shared store's refusal holds")
	}
	sh.handled = false
	if _, why, _ := e.Admit(Key{KindUser, "u"}, l); why != "" {
		t.Fatal("with the store unable to answer, the local bucket decides")
	}
	if sh.calls != 2 {
		t.Fatal(sh.calls)
	}
}
