package main

import (
	"fmt"
	"math"
	"strings"
)

// The paths of bench/paths.sh: each measured against reverse_proxy (A) in
// the same round, on the same route and body.
var pathNames = map[string]string{
	"JH": "chroma_auth JWT HS256 (cached)",
	"JE": "chroma_auth JWT ES256 (cached)",
	"JR": "chroma_auth JWT RS256 (cached)",
	"OE": "oauth2-proxy JWT ES256",
	"OR": "oauth2-proxy JWT RS256",
	"PE": "Apache mod_auth_openidc ES256",
	"PR": "Apache mod_auth_openidc RS256",
	"K":  "chroma_auth API key",
	"S":  "chroma_auth scoped RBAC + grants, by id",
	"U":  "chroma_auth token + audit to a file",
	"UL": "chroma_auth token + audit through Caddy's log",
	"AU": "Caddy reverse_proxy + access log to a file",
	"Q":  "chroma_auth token + quotas in Redis",
	"L":  "chroma_auth filtered listing (1,000)",
	"QC": "chroma_auth token, query",
	"RW": "chroma_auth token with rows, query",
}

var pathOrder = []string{"JH", "JE", "JR", "OE", "OR", "PE", "PR", "K", "S", "U", "UL", "AU", "Q", "L", "QC", "RW"}

func init() {
	for k, v := range pathNames {
		names[k] = v
	}
	order = append(order, pathOrder...)
}

// pathScenario is the scenario a path gateway ran in.
func pathScenario(g string) string {
	switch g {
	case "L":
		return "listing"
	case "QC", "RW":
		return "query"
	}
	return "paths"
}

// pathGoal is what a path must reach, as a ratio to reverse_proxy in
// percent, with the goal's words; ok false for the peers and UL (no goal:
// the audit's path is U, UL shows what Caddy's logging costs it).
func pathGoal(g string) (float64, string, bool) {
	switch {
	case g == "L":
		return 50, "within 2× of the plain listing", true
	case strings.HasPrefix(g, "O"), strings.HasPrefix(g, "P"), g == "AU", g == "UL":
		return 0, "", false
	}
	return 95, "≥ 95 % of reverse_proxy", true
}

// pathPeers are the peers a path must be at least as fast as: each cached
// chroma_auth JWT, the JWT proxies on the same token.
var pathPeers = map[string][]string{"JE": {"OE", "PE"}, "JR": {"OR", "PR"}}

// pathBeside are the peers a path is only set beside, with no goal, in
// the wrk table and the callgrind table alike: the audit line beside
// Caddy's own access log line, what a user would turn on instead.
var pathBeside = map[string]string{"U": "AU", "UL": "AU"}

// writePaths reports every path of bench/paths.sh: req/s and CPU per
// request as ratios to reverse_proxy in the same round, and each goal.
func writePaths(b *strings.Builder, runs []run) {
	if !hasScenario(runs, "paths") && !hasScenario(runs, "listing") && !hasScenario(runs, "query") {
		return
	}
	fmt.Fprintf(b, "#### Every path, beside what users would pick instead\n\n")
	fmt.Fprintf(b, "Each path against reverse_proxy (A) in the same round: the token route for the credential paths, the listing of 1,000 collections for the filtered listing (A lists them plainly), a `POST …/query` of a 1,536-dimension embedding for the query paths (A forwards the same body). The JWT peers verify the same ES256 and RS256 tokens from the same issuer (oauth2-proxy by discovery and JWKS, Apache mod_auth_openidc as a resource server with the JWKS over HTTPS); both cache the keys, and chroma_auth also the verified token. The audit log (U, `audit { output file … }`) has Caddy's own access log, as JSON to a file, on plain reverse_proxy as its peer; UL is the same audit routed to a file by Caddy's `log`, with no goal: it shows what Caddy's logging costs the line.\n\n")
	fmt.Fprintf(b, "| path | route | req/s | ratio to reverse_proxy | p99 ms | gateway CPU µs/req | CPU vs reverse_proxy | non-2xx | goal |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, g := range pathOrder {
		sc := pathScenario(g)
		s, ok := summarize(runs, sc, g)
		if !ok {
			continue
		}
		r := ratio(runs, sc, g, run.rps)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", names[g], sc, fmtRPS(s.rps), pct(r),
			fmtMS(s.p99), fmtRPS(s.cpu), pct(ratio(runs, sc, g, run.cpuPerReq)), s.non2xx, goalCell(runs, g, r))
	}
	b.WriteString("\n")
}

// goalCell says whether g met its goal in this run.
func goalCell(runs []run, g string, r float64) string {
	var parts []string
	if want, words, ok := pathGoal(g); ok && !math.IsNaN(r) {
		parts = append(parts, mark(r >= want)+" "+words)
	}
	for _, peer := range pathPeers[g] {
		pr := ratio(runs, "paths", peer, run.rps)
		if math.IsNaN(pr) || math.IsNaN(r) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s ≥ %s (%s)", mark(r >= pr), names[peer], pct(pr)))
	}
	if peer := pathBeside[g]; peer != "" {
		if pr := ratio(runs, "paths", peer, run.rps); !math.IsNaN(pr) && !math.IsNaN(r) {
			parts = append(parts, fmt.Sprintf("beside %s: %s", names[peer], pct(pr)))
		}
	}
	if g == "RW" {
		if qc := ratio(runs, "query", "QC", run.rps); !math.IsNaN(qc) && qc > 0 && !math.IsNaN(r) {
			parts = append(parts, fmt.Sprintf("%s of the same query without rows", pct(100*r/qc)))
		}
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, "; ")
}

func mark(ok bool) string {
	if ok {
		return "met:"
	}
	return "NOT met:"
}
