//go:build race

package rows

// raceOn: the race detector changes allocations, so allocation bounds
// are checked without it.
const raceOn = true
