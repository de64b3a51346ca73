//go:build !purego

package rows

import "golang.org/x/sys/cpu"

// hasAVX2: the CPU and the OS run AVX2 (indexStopAVX2).
var hasAVX2 = cpu.X86.HasAVX2

// indexStopAVX2 is indexStop of b, 64 bytes or more, in one scan of 64
// bytes a step (stop_amd64.s).
//
//go:noescape
func indexStopAVX2(b []byte) int

// indexStop is the index of the first '"' or ']' in b, -1 when there is
// neither: where a flat array ends, or the string that makes it not flat.
// One scan for both bytes, where IndexByte would take two.
func indexStop(b []byte) int {
	if hasAVX2 && len(b) >= 64 {
		return indexStopAVX2(b)
	}
	return indexStopBytes(b)
}
