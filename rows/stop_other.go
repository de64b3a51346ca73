//go:build !amd64 || purego

package rows

// indexStop is the index of the first '"' or ']' in b, -1 when there is
// neither: where a flat array ends, or the string that makes it not flat.
func indexStop(b []byte) int { return indexStopBytes(b) }

// hasAVX2: no AVX2 scan here.
const hasAVX2 = false
