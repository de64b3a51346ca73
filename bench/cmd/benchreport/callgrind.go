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

// instrRatios is, per gateway, reverse_proxy's instructions per request
// over the gateway's, in percent: the throughput ratio a CPU-bound gateway
// would have if time followed instructions.
func instrRatios(rows [][]string) map[string]float64 {
	per := instrPerReq(rows)
	out := map[string]float64{}
	if base, ok := per["A"]; ok {
		for g, v := range per {
			out[g] = 100 * base / v
		}
	}
	return out
}

// writeCallgrind reports instructions per request (callgrind.tsv: gateway,
// requests, instructions), the smallest of the rounds, and the difference
// to reverse_proxy.
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
	base := slicesMin(per["A"])
	fmt.Fprintf(b, "\n#### Instructions per request (valgrind callgrind), the measure this shared machine does not disturb\n\n")
	fmt.Fprintf(b, "A copy of each gateway under callgrind, `GOGC=off`, `GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off`; after a warm-up, the instructions of the whole process over %s requests made one after another on one connection, divided by the requests. User space only (the kernel's socket work is not in it, so a handler's share here is an upper bound of its share of time). The smallest of the rounds; every round is listed.\n\n", rows[0][1])
	fmt.Fprintf(b, "| gateway | instructions / request | vs reverse_proxy | added by the handler | rounds |\n|---|---:|---:|---:|---|\n")
	for _, g := range order {
		v, ok := per[g]
		if !ok {
			continue
		}
		m := slicesMin(v)
		var rs []string
		for _, x := range v {
			rs = append(rs, strconv.FormatFloat(x, 'f', 0, 64))
		}
		added := "–"
		if g != "A" {
			added = fmt.Sprintf("%+.0f", m-base)
		}
		fmt.Fprintf(b, "| %s | %.0f | %s | %s | %s |\n", names[g], m, pct(100*m/base), added, strings.Join(rs, ", "))
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
