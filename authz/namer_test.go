package authz

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedFetcher answers by-id lookups once its gate opens, counting them
// per id.
type gatedFetcher struct {
	owners *Owners
	gate   chan struct{}
	colls  map[string]Owner
	mu     sync.Mutex
	asked  map[string]int
}

func (f *gatedFetcher) ByID(ctx context.Context, tenant, database, id string) (bool, error) {
	f.mu.Lock()
	f.asked[id]++
	f.mu.Unlock()
	select {
	case <-f.gate:
	case <-ctx.Done():
		return true, ctx.Err()
	}
	if w, ok := f.colls[id]; ok {
		f.owners.Learn(id, w.Tenant, w.Database, w.Name)
	}
	return true, nil
}

func (f *gatedFetcher) List(context.Context, string, string) error { return nil }

// A cold burst: many lines at once for a few unknown ids. Names never
// blocks its caller (every call returns while the lookups are held), each
// id is looked up once for the whole burst, every line gets every name
// (an id that is nowhere gets ""), and later lines are named at once from
// what was learned.
func TestNamerColdBurst(t *testing.T) {
	ids := []string{
		"0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77",
		"9d1e4c1a-1111-4b0a-9a53-5f2c1a9e8b77",
		"5b3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77", // nowhere
	}
	o := NewOwners(100)
	f := &gatedFetcher{owners: o, gate: make(chan struct{}), asked: map[string]int{}, colls: map[string]Owner{
		ids[0]: {Tenant: "acme", Database: "prod", Name: "docs"},
		ids[1]: {Tenant: "acme", Database: "prod", Name: "billing"},
	}}
	want := map[string]string{ids[0]: "docs", ids[1]: "billing", ids[2]: ""}
	n := NewNamer(NewResolver(o), 1000)
	var starts atomic.Int32
	start := func() (context.Context, Fetcher) { starts.Add(1); return context.Background(), f }

	const lines = 200
	got := make([][]string, lines)
	var done sync.WaitGroup
	var callers sync.WaitGroup
	for i := range lines {
		done.Add(1)
		callers.Add(1)
		go func(i int) {
			defer callers.Done()
			req := []string{ids[i%3], ids[(i+1)%3]}
			n.Names("acme", "prod", req, start, func(names []string) {
				got[i] = append([]string{req[0], req[1]}, names...)
				done.Done()
			})
		}(i)
	}
	callers.Wait() // every caller returned with the lookups held
	assert.Equal(t, lines, n.Waiting())
	close(f.gate)
	done.Wait()
	for i, g := range got {
		require.Len(t, g, 4, "line %d", i)
		assert.Equal(t, want[g[0]], g[2], "line %d", i)
		assert.Equal(t, want[g[1]], g[3], "line %d", i)
	}
	f.mu.Lock()
	for _, id := range ids[:2] {
		assert.Equal(t, 1, f.asked[id], "one lookup of %s for the burst", id)
	}
	f.mu.Unlock()
	assert.Eventually(t, func() bool { return n.Waiting() == 0 }, 5*time.Second, time.Millisecond)

	// Known now: named at once, on the caller's goroutine, nothing asked.
	before := starts.Load()
	var named []string
	n.Names("acme", "prod", ids[:2], start, func(names []string) { named = names })
	assert.Equal(t, []string{"docs", "billing"}, named)
	assert.Equal(t, before, starts.Load())
}

// Past max waiting lines, and without a way to look up, a line is named
// at once with what is known; an id that is no UUID is never looked up.
func TestNamerBounds(t *testing.T) {
	o := NewOwners(100)
	f := &gatedFetcher{owners: o, gate: make(chan struct{}), asked: map[string]int{}}
	n := NewNamer(NewResolver(o), 1)
	start := func() (context.Context, Fetcher) { return context.Background(), f }
	ids := []string{"0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"}
	var first sync.WaitGroup
	first.Add(1)
	n.Names("acme", "prod", ids, start, func([]string) { first.Done() })
	now := false
	n.Names("acme", "prod", ids, start, func(names []string) { now = true; assert.Equal(t, []string{""}, names) })
	assert.True(t, now, "the second line is not held: one may wait")
	now = false
	n.Names("acme", "prod", ids, nil, func([]string) { now = true })
	assert.True(t, now, "no way to look up: at once")
	now = false
	n.Names("", "", ids, start, func([]string) { now = true })
	assert.True(t, now, "no tenant (a v1 route): at once")
	now = false
	n.Names("acme", "prod", []string{"docs"}, start, func([]string) { now = true })
	assert.True(t, now, "not a UUID: nothing to look up")
	close(f.gate)
	first.Wait()
	f.mu.Lock()
	assert.Equal(t, map[string]int{ids[0]: 1}, f.asked, fmt.Sprint(f.asked))
	f.mu.Unlock()
}
