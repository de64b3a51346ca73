package providers

import (
	"math/rand/v2"
	"testing"
)

// The ASCII glob is the rune glob: random patterns and names over a small
// alphabet (stars, question marks, a multi-byte rune, an invalid byte),
// and no allocation for ASCII ones.
func TestGlobMatchASCIIOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alpha := []string{"a", "b", "-", "*", "?", "é", "\xff"}
	gen := func(n int, stars bool) string {
		s := ""
		for range n {
			c := alpha[r.IntN(len(alpha))]
			if !stars && (c == "*" || c == "?") {
				c = "a"
			}
			s += c
		}
		return s
	}
	for range 300000 {
		p, n := gen(r.IntN(7), true), gen(r.IntN(9), false)
		if got, want := globMatch(p, n), globMatchSeq([]rune(p), []rune(n)); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, want %v", p, n, got, want)
		}
	}
	if raceEnabled {
		return
	}
	if a := testing.AllocsPerRun(100, func() { _ = globMatch("bench-00*", "bench-0042") }); a != 0 {
		t.Fatalf("an ASCII glob allocates %v times", a)
	}
}
