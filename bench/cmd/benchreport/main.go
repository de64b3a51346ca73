// Command benchreport turns the raw results of bench/run.sh (meta.tsv,
// runs.tsv, first.tsv, rss.tsv, and skipped.tsv: the steps this machine
// could not run, with why, in -out) into results.md, optionally splices
// them into BENCHMARKS.md between the results markers, and draws the chart
// of throughput ratios to plain reverse_proxy as an SVG.
//
//	go run ./bench/cmd/benchreport -out bench/out -md BENCHMARKS.md -svg bench/ratios.svg
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"html"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

var names = map[string]string{
	"A":  "Caddy reverse_proxy (baseline)",
	"B":  "Caddy + chroma_auth basic",
	"C":  "Caddy + chroma_auth token",
	"D":  "Caddy basic_auth",
	"E":  "nginx auth_basic",
	"B2": "chroma_auth basic, failures_per_minute off",
}

var order = []string{"A", "B", "C", "D", "E", "B2"}

const (
	startMarker = "<!-- bench:results:start (written by bench/run.sh) -->"
	endMarker   = "<!-- bench:results:end -->"
)

// run is one wrk run.
type run struct {
	scenario, gw string
	round        int
	requests     float64
	durUS        float64
	p50, p99     float64 // microseconds
	max          float64
	non2xx       int
	errors       int
	codes        string
	cpuTicks     float64
}

// clkTck is the kernel's clock ticks per second, from meta.tsv.
var clkTck = 100.0

// cpuPerReq is the gateway's CPU time per request, in microseconds.
func (r run) cpuPerReq() float64 {
	if r.requests <= 0 {
		return math.NaN()
	}
	return r.cpuTicks / clkTck * 1e6 / r.requests
}

func (r run) rps() float64 {
	if r.durUS <= 0 {
		return 0
	}
	return r.requests / (r.durUS / 1e6)
}

func main() {
	out := flag.String("out", "bench/out", "folder with meta.tsv, runs.tsv, first.tsv, rss.tsv")
	md := flag.String("md", "", "BENCHMARKS.md to splice the results into (between the markers)")
	svg := flag.String("svg", "", "SVG chart of the ratios to write")
	flag.Parse()

	meta, metaKeys := readMeta(filepath.Join(*out, "meta.tsv"))
	if v, err := strconv.ParseFloat(meta["clk_tck"], 64); err == nil && v > 0 {
		clkTck = v
	}
	runs := readRuns(filepath.Join(*out, "runs.tsv"))
	first := readTSV(filepath.Join(*out, "first.tsv"))
	rss := map[string]int{}
	for _, f := range readTSV(filepath.Join(*out, "rss.tsv")) {
		if len(f) == 2 {
			rss[f[0]], _ = strconv.Atoi(f[1])
		}
	}

	var b strings.Builder
	writeResults(&b, meta, metaKeys, runs, first, rss)
	writeSkipped(&b, readOptionalTSV(filepath.Join(*out, "skipped.tsv")))
	if rows, err := os.ReadFile(filepath.Join(*out, "callgrind.tsv")); err == nil && len(bytes.TrimSpace(rows)) > 0 {
		writeCallgrind(&b, readTSV(filepath.Join(*out, "callgrind.tsv")))
	}
	if rows, err := os.ReadFile(filepath.Join(*out, "share.tsv")); err == nil && len(bytes.TrimSpace(rows)) > 0 {
		writeShare(&b, readTSV(filepath.Join(*out, "share.tsv")))
	}
	if data, err := os.ReadFile(filepath.Join(*out, "scale.txt")); err == nil {
		writeScale(&b, string(data))
	}
	if err := os.WriteFile(filepath.Join(*out, "results.md"), []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	if *md != "" {
		if err := splice(*md, b.String()); err != nil {
			log.Fatal(err)
		}
	}
	if *svg != "" {
		instr := instrRatios(readOptionalTSV(filepath.Join(*out, "callgrind.tsv")))
		if len(runs) == 0 && len(instr) == 0 {
			log.Printf("benchreport: no throughput and no instruction counts: %s left as it was", *svg)
			return
		}
		if err := os.WriteFile(*svg, chart(runs, meta, instr), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func readTSV(path string) [][]string {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatalf("benchreport: %v", err)
	}
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		rows = append(rows, strings.Split(sc.Text(), "\t"))
	}
	return rows
}

func readMeta(path string) (map[string]string, []string) {
	m := map[string]string{}
	var keys []string
	for _, f := range readTSV(path) {
		if len(f) >= 2 {
			if _, ok := m[f[0]]; !ok {
				keys = append(keys, f[0])
			}
			m[f[0]] = strings.Join(f[1:], " ")
		}
	}
	return m, keys
}

func readRuns(path string) []run {
	var runs []run
	for _, f := range readTSV(path) {
		if len(f) < 4 {
			continue
		}
		r := run{scenario: f[0], gw: f[1]}
		r.round, _ = strconv.Atoi(f[2])
		for _, kv := range strings.Fields(f[3]) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			n, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "requests":
				r.requests = n
			case "duration_us":
				r.durUS = n
			case "p50_us":
				r.p50 = n
			case "p99_us":
				r.p99 = n
			case "max_us":
				r.max = n
			case "non2xx":
				r.non2xx = int(n)
			case "errors":
				r.errors = int(n)
			case "codes":
				r.codes = v
			case "cpu_ticks":
				r.cpuTicks = n
			}
		}
		runs = append(runs, r)
	}
	return runs
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// summary of one gateway in one scenario, over its rounds.
type summary struct {
	n                   int
	rps, rpsMin, rpsMax float64
	p50, p99            float64 // ms, median over rounds
	cpu                 float64 // gateway CPU µs per request, median over rounds
	non2xx, errors      int
	codes               []string
}

func summarize(runs []run, scenario, gw string) (summary, bool) {
	var s summary
	var rps, p50, p99, cpu []float64
	for _, r := range runs {
		if r.scenario != scenario || r.gw != gw {
			continue
		}
		s.n++
		rps = append(rps, r.rps())
		p50 = append(p50, r.p50/1000)
		p99 = append(p99, r.p99/1000)
		cpu = append(cpu, r.cpuPerReq())
		s.non2xx += r.non2xx
		s.errors += r.errors
		if r.codes != "" && r.codes != "-" {
			s.codes = append(s.codes, r.codes)
		}
	}
	if s.n == 0 {
		return s, false
	}
	s.rps, s.p50, s.p99, s.cpu = median(rps), median(p50), median(p99), median(cpu)
	s.rpsMin, s.rpsMax = slicesMin(rps), slicesMax(rps)
	return s, true
}

// ratio is the median over rounds of gw's req/s divided by the baseline's
// (A) req/s in the same round: each pair ran within seconds of each other,
// so slow drift in what else the machine does cancels out. Rounds without
// a baseline run are skipped. metric picks req/s or CPU per request.
func ratio(runs []run, scenario, gw string, metric func(run) float64) float64 {
	base := map[int]float64{}
	for _, r := range runs {
		if r.scenario == scenario && r.gw == "A" {
			base[r.round] = metric(r)
		}
	}
	var rs []float64
	for _, r := range runs {
		if r.scenario != scenario || r.gw != gw {
			continue
		}
		if b, ok := base[r.round]; ok && b > 0 {
			rs = append(rs, 100*metric(r)/b)
		}
	}
	return median(rs)
}

func slicesMin(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}

func slicesMax(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

func fmtRPS(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case x >= 100:
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	default:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
}

func fmtMS(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

func pct(r float64) string {
	if math.IsNaN(r) {
		return "–"
	}
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 2, 64) + " %"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + " %"
}

func mib(kb int) string {
	if kb <= 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(kb)/1024, 'f', 1, 64) + " MiB"
}

func writeResults(b *strings.Builder, meta map[string]string, keys []string, runs []run, first [][]string, rss map[string]int) {
	fmt.Fprintf(b, "Measured %s on `%s`: %s CPUs (%s), %s, kernel %s; %s, Caddy %s, nginx %s, wrk %s; commit %s. Load average before the run %s, after %s.\n\n",
		meta["date"], meta["command"], meta["nproc"], meta["cpu"], meta["mem"], meta["kernel"], meta["go"], meta["caddy"], meta["nginx"], meta["wrk"], meta["commit"], meta["load_before"], meta["load_after"])
	fmt.Fprintf(b, "Route: `GET %s` (authenticated; the upstream answers a 45-byte JSON body). wrk: %s connections, one thread; bcrypt cost %s. Medians over the rounds; req/s range is min–max over rounds; a ratio is the median over rounds of the gateway's figure divided by reverse_proxy's in the same round; gateway CPU is the gateway process's user+system time (nginx: master + workers) over the run divided by the requests answered; peak RSS is the process's VmHWM over the whole run (nginx: master + workers).\n\n", meta["route"], meta["conns"], meta["bcrypt_cost"])

	table := func(title, scenario string, gws []string, note string) {
		if !hasScenario(runs, scenario) {
			return
		}
		fmt.Fprintf(b, "#### %s\n\n", title)
		if note != "" {
			fmt.Fprintf(b, "%s\n\n", note)
		}
		fmt.Fprintf(b, "| gateway | req/s | range | ratio to reverse_proxy | p50 ms | p99 ms | gateway CPU µs/req | CPU vs reverse_proxy | non-2xx | errors | peak RSS |\n")
		fmt.Fprintf(b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, g := range gws {
			s, ok := summarize(runs, scenario, g)
			if !ok {
				continue
			}
			rpsRatio := pct(ratio(runs, scenario, g, run.rps))
			cpuRatio := pct(ratio(runs, scenario, g, run.cpuPerReq))
			fmt.Fprintf(b, "| %s | %s | %s–%s | %s | %s | %s | %s | %s | %d | %d | %s |\n",
				names[g], fmtRPS(s.rps), fmtRPS(s.rpsMin), fmtRPS(s.rpsMax), rpsRatio, fmtMS(s.p50), fmtMS(s.p99), fmtRPS(s.cpu), cpuRatio, s.non2xx, s.errors, mib(rss[g]))
		}
		b.WriteString("\n")
	}
	table("Steady state, one valid credential (cached after its first request)", "one", []string{"A", "B", "C", "D", "E"}, "")
	table("100 distinct valid users, each request the next user (wrk Lua rotating Authorization)", "users", []string{"A", "B", "C", "D", "E"},
		"Every user's first request was made (and timed, below) before this run, so chroma_auth and Caddy basic_auth answer from their caches; nginx runs bcrypt on every request. Token gateway: 101 tokens, rotating over 100.")
	table("Public route (`GET /api/v2/heartbeat`, no credential)", "public", []string{"A", "B"}, "")

	writeFirst(b, first)
	writeWrong(b, runs)
	writeRounds(b, runs)
}

// hasScenario reports whether runs hold a run of scenario.
func hasScenario(runs []run, scenario string) bool {
	for _, r := range runs {
		if r.scenario == scenario {
			return true
		}
	}
	return false
}

// writeFirst reports the first request of a new credential against the
// same credential again (first.tsv).
func writeFirst(b *strings.Builder, first [][]string) {
	if len(first) == 0 {
		return
	}
	fmt.Fprintf(b, "#### First request of a new credential (one bcrypt) vs. the same credential again\n\n")
	fmt.Fprintf(b, "curl `time_total`, one request at a time, for each of 100 users.\n\n")
	fmt.Fprintf(b, "| gateway | first: median ms | first: p90 ms | again: median ms | again: p90 ms |\n|---|---:|---:|---:|---:|\n")
	for _, g := range order {
		var t1, t2 []float64
		for _, f := range first {
			if len(f) < 6 || f[0] != g {
				continue
			}
			a, _ := strconv.ParseFloat(f[3], 64)
			c, _ := strconv.ParseFloat(f[5], 64)
			t1 = append(t1, a*1000)
			t2 = append(t2, c*1000)
		}
		if len(t1) == 0 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", names[g], fmtMS(median(t1)), fmtMS(quantile(t1, 0.9)), fmtMS(median(t2)), fmtMS(quantile(t2, 0.9)))
	}
	b.WriteString("\n")

}

// writeWrong reports the streams of wrong passwords.
func writeWrong(b *strings.Builder, runs []run) {
	if !hasScenario(runs, "wrong") {
		return
	}
	fmt.Fprintf(b, "#### A stream of wrong passwords (every request a different one; wrong tokens for the token gateway)\n\n")
	fmt.Fprintf(b, "| gateway | answers/s | p50 ms | p99 ms | gateway CPU µs/answer | status codes | errors |\n|---|---:|---:|---:|---:|---|---:|\n")
	for _, g := range order {
		s, ok := summarize(runs, "wrong", g)
		if !ok {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d |\n", names[g], fmtRPS(s.rps), fmtMS(s.p50), fmtMS(s.p99), fmtRPS(s.cpu), strings.Join(s.codes, " "), s.errors)
	}
	b.WriteString("\n")

}

// writeRounds lists every round's req/s, for the record.
func writeRounds(b *strings.Builder, runs []run) {
	if len(runs) == 0 {
		return
	}
	fmt.Fprintf(b, "<details><summary>Every round (req/s)</summary>\n\n| scenario | gateway | rounds |\n|---|---|---|\n")
	for _, sc := range []string{"one", "users", "public", "wrong"} {
		for _, g := range order {
			var parts []string
			for _, r := range runs {
				if r.scenario == sc && r.gw == g {
					parts = append(parts, fmtRPS(r.rps()))
				}
			}
			if len(parts) > 0 {
				fmt.Fprintf(b, "| %s | %s | %s |\n", sc, names[g], strings.Join(parts, ", "))
			}
		}
	}
	b.WriteString("\n</details>\n")
}

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

func splice(path, results string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(data)
	i := strings.Index(s, startMarker)
	j := strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q … %q markers to write the results between", path, startMarker, endMarker)
	}
	s = s[:i+len(startMarker)] + "\n" + results + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

// chart draws horizontal bars: throughput of each authenticating gateway as
// a percentage of plain reverse_proxy, one bar per scenario, with the 97 %
// target as a dashed line.
func chart(runs []run, meta map[string]string, instr map[string]float64) []byte {
	type bar struct {
		label string
		ratio float64
		color string
	}
	scen := []struct{ key, label, color string }{
		{"one", "req/s, one credential", "#2b6cb0"},
		{"users", "req/s, 100 users", "#68a063"},
	}
	if len(instr) > 0 {
		scen = append(scen, struct{ key, label, color string }{"instr", "reverse_proxy's ÷ gateway's instructions per request", "#d69e2e"})
	}
	// value is a bar's ratio: req/s paired by round, or instructions.
	value := func(key, g string) (float64, string, bool) {
		if key == "instr" {
			r, ok := instr[g]
			return r, "reverse_proxy's instructions per request / this gateway's", ok
		}
		v, ok := summarize(runs, key, g)
		r := ratio(runs, key, g, run.rps)
		return r, fmtRPS(v.rps) + " req/s", ok && !math.IsNaN(r)
	}
	gws := []string{"B", "C", "D", "E"}
	const (
		left, right, top = 230.0, 70.0, 92.0
		barH, gap, group = 18.0, 4.0, 16.0
		width            = 820.0
	)
	// The axis reaches past the best ratio, in steps of 25 %, at least 125 %.
	maxPct := 125.0
	for _, sc := range scen {
		for _, g := range gws {
			for r, _, ok := value(sc.key, g); ok && r+12 > maxPct; {
				maxPct += 25
			}
		}
	}
	plotW := width - left - right
	height := top + float64(len(gws))*(float64(len(scen))*(barH+gap)+group) + 40
	x := func(p float64) float64 { return left + plotW*math.Min(p, maxPct)/maxPct }

	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(&s, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&s, `<text x="16" y="24" font-size="16" font-weight="bold">Throughput as a share of plain Caddy reverse_proxy (higher is better)</text>`+"\n")
	fmt.Fprintf(&s, `<text x="16" y="44" fill="#555" font-size="11">%s · %s CPUs (%s) · loopback, wrk %s connections · req/s: median of per-round ratios · bench/run.sh</text>`+"\n",
		html.EscapeString(meta["date"]), html.EscapeString(meta["nproc"]), html.EscapeString(meta["cpu"]), html.EscapeString(meta["conns"]))
	// legend
	lx := 16.0
	for _, sc := range scen {
		fmt.Fprintf(&s, `<rect x="%.1f" y="56" width="12" height="12" fill="%s"/><text x="%.1f" y="66.5" fill="#333">%s</text>`+"\n", lx, sc.color, lx+17, sc.label)
		lx += 8*float64(len(sc.label)) + 30
	}
	// grid
	for p := 0.0; p <= maxPct; p += 25 {
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e2e2e2"/>`+"\n", x(p), top-6, x(p), height-32)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%.0f %%</text>`+"\n", x(p), height-16, p)
	}
	fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c53030" stroke-dasharray="5,4"/>`+"\n", x(97), top-10, x(97), height-32)
	fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" fill="#c53030" text-anchor="end" font-size="11">target 97 %%</text>`+"\n", x(97)-4, top-2)

	y := top
	for _, g := range gws {
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="end" font-weight="bold">%s</text>`+"\n", left-10, y+barH+gap/2+4, html.EscapeString(names[g]))
		for _, sc := range scen {
			if r, what, ok := value(sc.key, g); ok {
				w := math.Max(x(r)-left, 1)
				fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %.1f %% (%s)</title></rect>`+"\n",
					left, y, w, barH, sc.color, html.EscapeString(names[g]), sc.label, r, what)
				label := strconv.FormatFloat(r, 'f', 1, 64) + " %"
				if r < 10 {
					label = strconv.FormatFloat(r, 'f', 2, 64) + " %"
				}
				fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" fill="#222">%s</text>`+"\n", left+w+6, y+barH-4, label)
			}
			y += barH + gap
		}
		y += group
	}
	s.WriteString("</svg>\n")
	return []byte(s.String())
}
