package main

import (
	"strings"
	"testing"
)

// Each path's instructions are divided by reverse_proxy's on the same
// request (A, AL, AQ, AS, AJ*; S and the JWTs also shown against A), the smallest round of each, and
// the goal is judged in instructions.
func TestWriteCallgrind(t *testing.T) {
	rows := [][]string{
		{"A", "1000", "250000000"}, {"A", "1000", "251000000"},
		{"C", "1000", "255000000"}, {"S", "1000", "275000000"}, {"AS", "1000", "262000000"},
		{"U", "1000", "270000000"}, {"AU", "1000", "280000000"}, {"UL", "1000", "275000000"},
		{"JR", "1000", "275000000"}, {"AJR", "1000", "268000000"},
		{"AL", "1000", "350000000"}, {"L", "1000", "1050000000"},
		{"AQ", "1000", "300000000"}, {"RW", "1000", "450000000"}, {"Q", "1000", "255000000"},
	}
	var b strings.Builder
	writeCallgrind(&b, rows)
	got := b.String()
	for _, want := range []string{
		"| Caddy reverse_proxy (baseline) | 250000 | – | – | – | – | 250000, 251000 |",
		"| Caddy + chroma_auth token | 255000 | A | 102.0 % | +5000 | met: ≤ 105.3 % (≥ 95 % of reverse_proxy) | 255000 |",
		"| chroma_auth scoped RBAC + grants, by id | 275000 | AS | 105.0 % | +13000 | met: ≤ 105.3 % (≥ 95 % of reverse_proxy); 110.0 % against A |",
		"| Caddy reverse_proxy on S's route (a collection by id) | 262000 | A | 104.8 % | +12000 | – |",
		"| chroma_auth JWT RS256 (cached) | 275000 | AJR | 102.6 % | +7000 | met: ≤ 105.3 % (≥ 95 % of reverse_proxy); 110.0 % against A |",
		"| chroma_auth token + audit to a file | 270000 | A | 108.0 % | +20000 | NOT met: ≤ 105.3 % (≥ 95 % of reverse_proxy); 96.4 % of AU's | 270000 |",
		"| Caddy reverse_proxy + access log to a file | 280000 | A | 112.0 % | +30000 | – | 280000 |",
		"| chroma_auth token + audit through Caddy's log | 275000 | A | 110.0 % | +25000 | – | 275000 |", // no goal
		"| Caddy reverse_proxy with JR's token header | 268000 | A | 107.2 % | +18000 | – |",
		"| chroma_auth filtered listing (1,000) | 1050000 | AL | 300.0 % | +700000 | NOT met: ≤ 200 %",
		"| chroma_auth token with rows, query | 450000 | AQ | 150.0 % |",
		"| chroma_auth token + quotas in Redis | 255000 | A | 102.0 % | +5000 | met: ≤ 105.3 % (≥ 95 % of reverse_proxy) | 255000 |",
		"| chroma_auth filtered listing (1,000) | 1050000 | AL | 300.0 % | +700000 | NOT met: ≤ 200 % (within 2× of the plain listing) | 1050000 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	r := instrRatios(rows)
	if r["L"] < 33.3 || r["L"] > 33.4 || r["C"] < 98.03 || r["C"] > 98.04 {
		t.Errorf("instrRatios: L %v, C %v", r["L"], r["C"])
	}
	if r["S"] < 95.27 || r["S"] > 95.28 || r["JR"] < 97.45 || r["JR"] > 97.46 {
		t.Errorf("instrRatios against the same request: S %v, JR %v", r["S"], r["JR"])
	}
	if _, ok := r["AU"]; ok {
		t.Error("the audit's peer has no bar of its own")
	}
	if _, ok := r["AL"]; ok {
		t.Error("a baseline has no bar of its own")
	}
}
