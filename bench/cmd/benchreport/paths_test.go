package main

import (
	"strings"
	"testing"
)

func pathRun(sc, gw string, round int, requests float64) run {
	return run{scenario: sc, gw: gw, round: round, requests: requests, durUS: 1e6, cpuTicks: 1}
}

// Each path is reported against reverse_proxy in its own scenario, with
// its goal met or not, the cached JWT against its peers (a goal), and the
// audit beside Caddy's access log (no goal).
func TestWritePaths(t *testing.T) {
	runs := []run{
		pathRun("paths", "A", 1, 1000), pathRun("paths", "JE", 1, 960), pathRun("paths", "OE", 1, 300),
		pathRun("paths", "PE", 1, 970), pathRun("paths", "K", 1, 900),
		pathRun("paths", "U", 1, 930), pathRun("paths", "AU", 1, 880),
		pathRun("paths", "UL", 1, 900),
		pathRun("listing", "A", 1, 100), pathRun("listing", "L", 1, 60),
		pathRun("query", "A", 1, 500), pathRun("query", "QC", 1, 490), pathRun("query", "RW", 1, 245),
	}
	var b strings.Builder
	writePaths(&b, runs)
	got := b.String()
	for _, want := range []string{
		"| chroma_auth JWT ES256 (cached) | paths | 960 | 96.0 % |",
		"met: ≥ 95 % of reverse_proxy; met: ≥ oauth2-proxy JWT ES256 (30.0 %); NOT met: ≥ Apache mod_auth_openidc ES256 (97.0 %)",
		"| chroma_auth API key | paths | 900 | 90.0 % |",
		"NOT met: ≥ 95 % of reverse_proxy |",
		"| chroma_auth filtered listing (1,000) | listing | 60.0 | 60.0 % |",
		"met: within 2× of the plain listing",
		"| oauth2-proxy JWT ES256 | paths | 300 | 30.0 % |",
		"50.0 % of the same query without rows",
		"| chroma_auth token + audit to a file | paths | 930 | 93.0 % |",
		"NOT met: ≥ 95 % of reverse_proxy; beside Caddy reverse_proxy + access log to a file: 88.0 % |", // a peer, not a goal
		"| Caddy reverse_proxy + access log to a file | paths | 880 | 88.0 % |",
		"| chroma_auth token + audit through Caddy's log | paths | 900 | 90.0 % | 0.00 | 11.1 | 111.1 % | 0 | beside Caddy reverse_proxy + access log to a file: 88.0 % |", // no goal of its own
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	var empty strings.Builder
	writePaths(&empty, []run{pathRun("one", "A", 1, 1)})
	if empty.Len() != 0 {
		t.Errorf("no path runs, yet: %q", empty.String())
	}
}
