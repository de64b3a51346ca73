package main

import (
	"fmt"
	"strconv"
	"strings"
)

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
