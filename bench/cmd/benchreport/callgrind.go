package main

import (
	"fmt"
	"strconv"
	"strings"
)

// instrPerReq is the smallest instructions per request of each gateway in
// callgrind.tsv rows (gateway, requests, instructions).
func instrPerReq(rows [][]string) map[string]float64 {
	per := map[string]float64{}
	for _, r := range rows {
		if len(r) < 3 {
			continue
		}
		n, _ := strconv.ParseFloat(r[1], 64)
		t, _ := strconv.ParseFloat(r[2], 64)
		if n <= 0 {
			continue
		}
		if v, ok := per[r[0]]; !ok || t/n < v {
			per[r[0]] = t / n
		}
	}
	return per
}

// The callgrind baselines beside A (reverse_proxy on the token route with
// the static token): reverse_proxy on each path's own request.
var cgBaselines = map[string]string{
	"AL":  "Caddy reverse_proxy, the listing of 1,000 (L's baseline)",
	"AQ":  "Caddy reverse_proxy, the query (QC's and RW's baseline)",
	"AJH": "Caddy reverse_proxy with JH's token header",
	"AJE": "Caddy reverse_proxy with JE's token header",
	"AJR": "Caddy reverse_proxy with JR's token header",
	"AS":  "Caddy reverse_proxy on S's route (a collection by id)",
	"AU":  "Caddy reverse_proxy + access log to a file",
}

// pathBase is reverse_proxy on a path's own request where it is not A's:
// the listing's and the query's routes and body, the JWTs' longer
// Authorization headers (net/http parses them, and reverse_proxy forwards
// them, before and after any handler), S's longer path. A path is judged
// against it, and shown against A too.
var pathBase = map[string]string{"L": "AL", "QC": "AQ", "RW": "AQ", "S": "AS", "JH": "AJH", "JE": "AJE", "JR": "AJR"}

// alsoAgainstA: g's request is A's but for a longer header or path, so
// its cost beside A's is worth showing too.
func alsoAgainstA(g string) bool {
	b := pathBase[g]
	return b == "AS" || strings.HasPrefix(b, "AJ")
}

// cgOrder is the callgrind table's order: each baseline before the rows
// measured against it.
var cgOrder = []string{"A", "B", "C", "D", "K", "AU", "U", "UL", "Q", "AS", "S", "AJH", "AJE", "AJR", "JH", "JE", "JR", "AL", "L", "AQ", "QC", "RW"}

// cgBase is the baseline g's instructions are divided by: reverse_proxy on
// the same request (A when the run did not count that one).
func cgBase[T any](g string, per map[string]T) string {
	if b := pathBase[g]; b != "" {
		if _, ok := per[b]; ok {
			return b
		}
	}
	return "A"
}

// cgGoal is g's goal in instructions, in percent of its baseline's: 105.3
// (1/0.95) for a path, 200 for the filtered listing; 0 for none.
func cgGoal(g string) (float64, string) {
	switch {
	case g == "A" || g == "D" || g == "UL" || cgBaselines[g] != "":
		return 0, ""
	case g == "L":
		return 200, "≤ 200 % (within 2× of the plain listing)"
	}
	return 100 / 0.95, "≤ 105.3 % (≥ 95 % of reverse_proxy)"
}

// instrRatios is, per gateway, its baseline's instructions per request
// over the gateway's, in percent: the throughput ratio a CPU-bound gateway
// would have if time followed instructions.
func instrRatios(rows [][]string) map[string]float64 {
	per := instrPerReq(rows)
	out := map[string]float64{}
	for g, v := range per {
		if cgBaselines[g] != "" {
			continue
		}
		if base, ok := per[cgBase(g, per)]; ok {
			out[g] = 100 * base / v
		}
	}
	return out
}

// writeCallgrind reports instructions per request (callgrind.tsv: gateway,
// requests, instructions), the smallest of the rounds, against the
// baseline on the same request, and each path's goal.
func writeCallgrind(b *strings.Builder, rows [][]string) {
	per := map[string][]float64{}
	for _, r := range rows {
		if len(r) < 3 {
			continue
		}
		n, _ := strconv.ParseFloat(r[1], 64)
		t, _ := strconv.ParseFloat(r[2], 64)
		if n > 0 {
			per[r[0]] = append(per[r[0]], t/n)
		}
	}
	fmt.Fprintf(b, "\n#### Instructions per request (valgrind callgrind), the measure this shared machine does not disturb\n\n")
	fmt.Fprintf(b, "A copy of each gateway under callgrind, `GOGC=off`, `GOMAXPROCS=1`, `GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off`; after a warm-up, the instructions of the whole process over %s requests made one after another on one connection, divided by the requests. User space only (the kernel's socket work is not in it, so a handler's share here is an upper bound of its share of time). The smallest of the rounds; every round is listed. Each path against reverse_proxy on the same request: A (the token route, a static token) for the credential paths, AL (the listing of 1,000) for the filtered listing, AQ (the query and its body) for the query paths, AS (the route of a collection by id) for the scoped request by id, and AJH, AJE and AJR (reverse_proxy given the JWTs' own, longer, `Authorization` headers, which net/http parses before any handler runs and reverse_proxy forwards) for the JWTs; those are also shown against A. AU, reverse_proxy writing Caddy's own access log as JSON to a file, is the audit's peer; U writes the audit to a file of its own (`audit { output file … }`), UL routes it to a file through Caddy's `log` (no goal: it shows what Caddy's logging costs the line). Valgrind's CPU has no SHA instructions, so SHA-256 costs here many times what it costs natively.\n\n", rows[0][1])
	fmt.Fprintf(b, "| gateway | instructions / request | baseline | vs baseline | added by the handler | goal in instructions | rounds |\n|---|---:|---|---:|---:|---|---|\n")
	for _, g := range cgOrder {
		v, ok := per[g]
		if !ok {
			continue
		}
		m := slicesMin(v)
		var rs []string
		for _, x := range v {
			rs = append(rs, strconv.FormatFloat(x, 'f', 0, 64))
		}
		name := names[g]
		if n, ok := cgBaselines[g]; ok {
			name = n
		}
		baseKey := cgBase(g, per)
		if g == "A" || g == "AL" || g == "AQ" {
			fmt.Fprintf(b, "| %s | %.0f | – | – | – | – | %s |\n", name, m, strings.Join(rs, ", "))
			continue
		}
		bv, ok := per[baseKey]
		if !ok {
			continue
		}
		base := slicesMin(bv)
		goal := "–"
		if want, words := cgGoal(g); want > 0 {
			goal = mark(100*m/base <= want) + " " + words
			if baseKey != "A" && alsoAgainstA(g) && per["A"] != nil {
				goal += fmt.Sprintf("; %s against A", pct(100*m/slicesMin(per["A"])))
			}
			if p := pathBeside[g]; p != "" && per[p] != nil {
				goal += fmt.Sprintf("; %s of %s's", pct(100*m/slicesMin(per[p])), p)
			}
		}
		fmt.Fprintf(b, "| %s | %.0f | %s | %s | %+.0f | %s | %s |\n", name, m, baseKey, pct(100*m/base), m-base, goal, strings.Join(rs, ", "))
	}
}

// writeShare reports the auth handler's own share of the gateway's CPU
// samples under load (share.tsv: gateway, percent, handler seconds, total).
func writeShare(b *strings.Builder, rows [][]string) {
	fmt.Fprintf(b, "\n#### In-process CPU profile under load: the auth handler's own share of the gateway's CPU\n\n")
	fmt.Fprintf(b, "Caddy's `/debug/pprof/profile` on a copy of the gateway with the admin endpoint on loopback, during one run of the one-credential load. Own share: samples in the handler's code (package `caddy-chroma-auth`, or Caddy's `caddyauth` for basic_auth) that are not in `reverse_proxy`, which the handler calls next. It does not include the garbage collection of what the handler allocates.\n\n")
	fmt.Fprintf(b, "| gateway | handler's own share of CPU samples | handler / total samples |\n|---|---:|---:|\n")
	for _, r := range rows {
		if len(r) < 4 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s %% | %s / %s |\n", names[r[0]], r[1], r[2], r[3])
	}
}

// writeScale turns the output of `go test -bench . -benchmem ./bench` into
// a table.
func writeScale(b *strings.Builder, out string) {
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				m[f[i+1]] = v
			}
		}
		var t string
		switch ns := m["ns/op"]; {
		case ns >= 1e6:
			t = strconv.FormatFloat(ns/1e6, 'f', 0, 64) + " ms"
		case ns >= 1e3:
			t = strconv.FormatFloat(ns/1e3, 'f', 2, 64) + " µs"
		default:
			t = strconv.FormatFloat(ns, 'f', 0, 64) + " ns"
		}
		retained := "–"
		if v, ok := m["MiB-retained"]; ok {
			retained = strconv.FormatFloat(v, 'f', 1, 64) + " MiB"
		}
		alloc := strconv.FormatFloat(m["B/op"]/(1<<20), 'f', 1, 64) + " MiB"
		if m["B/op"] < 1<<20 {
			alloc = strconv.FormatFloat(m["B/op"], 'f', 0, 64) + " B"
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |", name, t, retained, alloc, strconv.FormatFloat(m["allocs/op"], 'f', 0, 64)))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### Go benchmarks: the handler's hot path (`go test -run '^$' -bench '^BenchmarkHandler$' -benchmem .`), and scale: `providers.Load` of 100,000 users / tokens, lookups at 1 vs 100,000 (`go test -run '^$' -bench . -benchmem ./bench`)\n\n")
	fmt.Fprintf(b, "| benchmark | time per op | heap kept by the loaded set | allocated per op | allocs per op |\n|---|---:|---:|---:|---:|\n")
	b.WriteString(strings.Join(rows, "\n") + "\n")
}
