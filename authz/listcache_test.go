package authz

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func fakeList(names ...string) []Collection {
	out := make([]Collection, len(names))
	for i, n := range names {
		out[i] = Collection{ID: "id-" + n, Name: n, Tenant: "t", Database: "d"}
	}
	return out
}

// A cold burst of callers shares one fetch, and every caller gets the
// whole listing.
func TestListingCacheColdBurstSharesOneFetch(t *testing.T) {
	c := NewListingCache(time.Second)
	var fetches atomic.Int32
	release := make(chan struct{})
	fetch := func(context.Context) ([]Collection, error) {
		fetches.Add(1)
		<-release
		return fakeList("a", "b", "c"), nil
	}
	const n = 64
	var wg sync.WaitGroup
	got := make([][]Collection, n)
	errs := make([]error, n)
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			got[i], errs[i] = c.Get(context.Background(), "t", "d", fetch)
		}()
	}
	started.Wait()
	// Every caller is started; the first one holds the fetch open until
	// all the others had the chance to join it.
	for fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil || len(got[i]) != 3 || got[i][2].Name != "c" {
			t.Fatalf("caller %d: %v %v", i, got[i], errs[i])
		}
	}
	if f := fetches.Load(); f < 1 || f > n {
		t.Fatalf("fetches = %d", f)
	}
	// Once fetched, the listing is kept: no further fetch within ttl.
	before := fetches.Load()
	if _, err := c.Get(context.Background(), "t", "d", fetch); err != nil || fetches.Load() != before {
		t.Fatalf("a fresh listing was fetched again (%d -> %d, %v)", before, fetches.Load(), err)
	}
}

func TestListingCacheTTLAndDrop(t *testing.T) {
	c := NewListingCache(time.Second)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	var fetches int
	fetch := func(context.Context) ([]Collection, error) {
		fetches++
		return fakeList("a"), nil
	}
	get := func() {
		t.Helper()
		if l, err := c.Get(context.Background(), "t", "d", fetch); err != nil || len(l) != 1 {
			t.Fatalf("Get: %v %v", l, err)
		}
	}
	get()
	get()
	if fetches != 1 {
		t.Fatalf("fetches = %d, want 1 (kept)", fetches)
	}
	now = now.Add(999 * time.Millisecond)
	get()
	if fetches != 1 {
		t.Fatalf("fetches = %d, want 1 (still fresh)", fetches)
	}
	now = now.Add(time.Millisecond)
	get()
	if fetches != 2 {
		t.Fatalf("fetches = %d, want 2 (ttl passed)", fetches)
	}
	c.Drop("t", "d")
	get()
	if fetches != 3 {
		t.Fatalf("fetches = %d, want 3 (dropped)", fetches)
	}
	// Another database has a listing of its own.
	if _, err := c.Get(context.Background(), "t", "other", fetch); err != nil || fetches != 4 {
		t.Fatalf("other database: fetches = %d, %v", fetches, err)
	}
}

func TestListingCacheZeroTTLKeepsNothing(t *testing.T) {
	c := NewListingCache(0)
	var fetches int
	fetch := func(context.Context) ([]Collection, error) { fetches++; return nil, nil }
	for i := 0; i < 3; i++ {
		if _, err := c.Get(context.Background(), "t", "d", fetch); err != nil {
			t.Fatal(err)
		}
	}
	if fetches != 3 {
		t.Fatalf("fetches = %d, want 3", fetches)
	}
}

func TestListingCacheKeepsNoError(t *testing.T) {
	c := NewListingCache(time.Minute)
	boom := errors.New("upstream down")
	calls := 0
	fetch := func(context.Context) ([]Collection, error) {
		calls++
		if calls == 1 {
			return nil, boom
		}
		return fakeList("a"), nil
	}
	if _, err := c.Get(context.Background(), "t", "d", fetch); !errors.Is(err, boom) {
		t.Fatalf("first Get: %v, want the fetch's error", err)
	}
	if l, err := c.Get(context.Background(), "t", "d", fetch); err != nil || len(l) != 1 {
		t.Fatalf("second Get: %v %v (an error was kept)", l, err)
	}
}

// A caller that goes away stops waiting; the fetch it started still
// serves the others.
func TestListingCacheWaiterCancel(t *testing.T) {
	c := NewListingCache(time.Minute)
	release := make(chan struct{})
	inFetch := make(chan struct{})
	fetch := func(ctx context.Context) ([]Collection, error) {
		close(inFetch)
		<-release
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return fakeList("a"), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, "t", "d", fetch)
		firstDone <- err
	}()
	<-inFetch
	waiterCtx, waiterCancel := context.WithCancel(context.Background())
	waiterDone := make(chan error, 1)
	go func() {
		_, err := c.Get(waiterCtx, "t", "d", fetch)
		waiterDone <- err
	}()
	waiterCancel()
	if err := <-waiterDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	cancel() // the first caller goes away too: its fetch is not cancelled
	close(release)
	<-firstDone
	if l, err := c.Get(context.Background(), "t", "d", fetch); err != nil || len(l) != 1 {
		t.Fatalf("after the first caller left: %v %v", l, err)
	}
}

// Visible works out who sees what once per listing and caller's grants:
// callers passing the same grants share the answer, other grants get
// their own, a new listing (after Drop) works it out again, and nil is
// never memoized.
func TestListingVisibleMemoizedPerGrants(t *testing.T) {
	c := NewListingCache(time.Minute)
	fetch := func(context.Context) ([]Collection, error) { return fakeList("a1", "b1", "a2", "b2"), nil }
	calls := 0
	prefix := func(p byte) func(string) bool {
		return func(name string) bool { calls++; return name[0] == p }
	}
	ga, gb := new(int), new(int) // two callers' grants
	lst, err := c.Listing(context.Background(), "t", "d", fetch)
	if err != nil {
		t.Fatal(err)
	}
	want := func(got []int32, idx ...int32) {
		t.Helper()
		if len(got) != len(idx) {
			t.Fatalf("visible %v, want %v", got, idx)
		}
		for i := range idx {
			if got[i] != idx[i] {
				t.Fatalf("visible %v, want %v", got, idx)
			}
		}
	}
	want(lst.Visible(ga, prefix('a')), 0, 2)
	want(lst.Visible(gb, prefix('b')), 1, 3)
	if calls != 8 {
		t.Fatalf("%d name checks for two callers, want 8", calls)
	}
	again, _ := c.Listing(context.Background(), "t", "d", fetch)
	want(again.Visible(ga, prefix('a')), 0, 2)
	want(again.Visible(gb, prefix('b')), 1, 3)
	if calls != 8 {
		t.Fatalf("the same grants on the same listing checked names again (%d checks)", calls)
	}
	want(lst.Visible(nil, prefix('a')), 0, 2)
	if calls != 12 {
		t.Fatalf("nil grants memoized (%d checks)", calls)
	}
	c.Drop("t", "d")
	fresh, _ := c.Listing(context.Background(), "t", "d", fetch)
	want(fresh.Visible(ga, prefix('b')), 1, 3)
	if calls != 16 {
		t.Fatalf("a new listing reused the old one's answer (%d checks)", calls)
	}
}

// The memo is bounded: past maxSeen indices a listing stops keeping
// answers, and still answers right.
func TestListingVisibleMemoBounded(t *testing.T) {
	c := NewListingCache(time.Minute)
	lst, _ := c.Listing(context.Background(), "t", "d", func(context.Context) ([]Collection, error) { return fakeList("a"), nil })
	lst.l.seenLen = maxSeen
	g := new(int)
	all := func(string) bool { return true }
	if got := lst.Visible(g, all); len(got) != 1 || got[0] != 0 {
		t.Fatalf("visible %v", got)
	}
	if _, kept := lst.l.seen[g]; kept || lst.l.seenLen != maxSeen {
		t.Fatalf("kept past the bound: %v %d", kept, lst.l.seenLen)
	}
}

// A failed fetch forgets only its own listing: one fetched after a Drop
// while it was on its way stays kept, and serves the next caller.
func TestListingCacheFailedFetchKeepsItsSuccessor(t *testing.T) {
	c := NewListingCache(time.Minute)
	release := make(chan struct{})
	var fetches atomic.Int32
	slowFail := func(context.Context) ([]Collection, error) {
		fetches.Add(1)
		<-release
		return nil, errors.New("upstream down")
	}
	ok := func(context.Context) ([]Collection, error) { fetches.Add(1); return fakeList("a"), nil }
	failed := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), "t", "d", slowFail); failed <- err }()
	for fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Drop("t", "d") // a write through the gateway while the first listing is on its way
	if got, err := c.Get(context.Background(), "t", "d", ok); err != nil || len(got) != 1 {
		t.Fatalf("the listing after the drop: %v %v", got, err)
	}
	close(release)
	if err := <-failed; err == nil {
		t.Fatal("the slow listing's caller got no error")
	}
	if got, err := c.Get(context.Background(), "t", "d", ok); err != nil || len(got) != 1 {
		t.Fatalf("next caller: %v %v", got, err)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d fetches: the failed one dropped its successor", n)
	}
}
