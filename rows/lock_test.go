package rows

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Check-then-write under the exclusive lock never overlaps another
// writer of the same collection, shared or exclusive; other collections
// are not held up; every entry is gone once released.
func TestLocksSerializeCheckThenWrite(t *testing.T) {
	l := NewLocks()
	var inside [2]atomic.Int32 // exclusive holders, shared holders, per collection 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	owner := map[string]string{} // the "collection": id → owner
	var mu sync.Mutex
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			<-start
			for i := 0; i < 50; i++ {
				key := "c0"
				if g%4 == 3 {
					key = "c1"
				}
				if g%2 == 0 {
					unlock := l.Lock(key)
					if key == "c0" {
						if inside[0].Add(1) != 1 || inside[1].Load() != 0 {
							t.Error("exclusive holder overlaps")
						}
						mu.Lock()
						o, taken := owner["x"] // check
						mu.Unlock()
						mu.Lock()
						if taken && owner["x"] != o {
							t.Error("record changed between check and write")
						}
						owner["x"] = o // write
						mu.Unlock()
						inside[0].Add(-1)
					}
					unlock()
				} else {
					unlock := l.RLock(key)
					if key == "c0" {
						inside[1].Add(1)
						if inside[0].Load() != 0 {
							t.Error("shared holder overlaps an exclusive one")
						}
						mu.Lock()
						if _, taken := owner["x"]; !taken {
							owner["x"] = "g"
						}
						mu.Unlock()
						inside[1].Add(-1)
					}
					unlock()
				}
			}
		}(g)
	}
	close(start)
	wg.Wait()
	if n := l.Len(); n != 0 {
		t.Fatalf("%d lock entries left", n)
	}
}
