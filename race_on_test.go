//go:build race

package chromaauth

// raceEnabled: the race detector changes allocations (and sync.Pool
// drops items on purpose), so the allocation bounds are checked without it.
const raceEnabled = true
