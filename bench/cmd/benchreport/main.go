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
	writePaths(&b, runs)
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
