package rows

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// numberRunOracle is what numberRun consumes of b, byte by byte: the run
// of number bytes, commas and white space, and its last byte that is not
// white space.
func numberRunOracle(b []byte) (n int, last byte) {
	for n < len(b) && bytes.IndexByte([]byte("0123456789+-.eE, \t\n\r"), b[n]) >= 0 {
		if c := b[n]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			last = c
		}
		n++
	}
	return n, last
}

// numberRun, eight bytes a step, stops where the byte-by-byte scan does,
// with the same last byte, whatever the reads' sizes (one byte at a time
// too) and wherever the run ends; a run that ends the array (']' not
// after a comma) is taken through the ']' by the fast skip.
func TestNumberRunOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	run := []byte("0123456789+-.eE, \t\n\r")
	stop := []byte("]}\"xa/\x00\x80")
	for range 5000 {
		b := make([]byte, r.IntN(200))
		for i := range b {
			b[i] = run[r.IntN(len(run))]
		}
		if r.IntN(4) > 0 {
			b = append(b, stop[r.IntN(len(stop))])
			for range r.IntN(20) {
				b = append(b, run[r.IntN(len(run))])
			}
		}
		wantN, wantLast := numberRunOracle(b)
		toEnd := wantN == len(b)
		if wantN < len(b) && b[wantN] == ']' && wantLast != 0 && wantLast != ',' {
			// the array ends flat here: the fast skip takes its ']' too
			wantN, wantLast = wantN+1, ']'
		}
		for _, rd := range []io.Reader{bytes.NewReader(b), iotest.OneByteReader(bytes.NewReader(b)), iotest.HalfReader(bytes.NewReader(b))} {
			var out bytes.Buffer
			s := newScanner(rd, &out)
			last, err := s.numberRun()
			s.hand() // what was consumed goes out
			consumed := out.Len()
			s.release()
			if toEnd {
				if err == nil {
					t.Fatalf("%q: a run to the end of the body is no error", b)
				}
				continue
			}
			if err != nil || last != wantLast || consumed != wantN {
				t.Fatalf("%q: numberRun = %q at %d (%v), want %q at %d", b, last, consumed, err, wantLast, wantN)
			}
		}
	}
}
