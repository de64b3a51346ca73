package rows

import (
	"math/rand/v2"
	"testing"
)

// indexStopOracle is indexStop a byte at a time.
func indexStopOracle(b []byte) int {
	for i, c := range b {
		if c == '"' || c == ']' {
			return i
		}
	}
	return -1
}

// indexStop (one AVX2 scan where the CPU has it) finds what the byte loop
// finds, at every length and alignment, with the stop bytes anywhere,
// bytes near them in value (one bit off, the high bit set) around, and a
// stop byte just past the end that must not be seen.
func TestIndexStop(t *testing.T) {
	t.Logf("AVX2 scan: %v", hasAVX2)
	r := rand.New(rand.NewPCG(41, 42))
	alphabet := []byte{'0', '1', ',', ' ', '-', '.', 'e', '[', '{', '}', '\\', 0x21, 0x23, 0x5c, 0x5e, 0x7d, 0xa2, 0xdd, 0x02, 0x1d}
	buf := make([]byte, 4096+64)
	for n := 0; n < 20000; n++ {
		size := r.IntN(300)
		if n%10 == 0 {
			size = r.IntN(4000)
		}
		off := r.IntN(64)
		for i := range buf {
			buf[i] = alphabet[r.IntN(len(alphabet))]
		}
		b := buf[off : off+size]
		for range r.IntN(3) {
			if size > 0 {
				b[r.IntN(size)] = []byte{'"', ']'}[r.IntN(2)]
			}
		}
		if off+size < len(buf) {
			buf[off+size] = ']' // past the end: not b's
		}
		if got, want := indexStop(b), indexStopOracle(b); got != want {
			t.Fatalf("size %d offset %d: indexStop %d, want %d", size, off, got, want)
		}
		if got, want := indexStopBytes(b), indexStopOracle(b); got != want {
			t.Fatalf("size %d offset %d: indexStopBytes %d, want %d", size, off, got, want)
		}
	}
}
