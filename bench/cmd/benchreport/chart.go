package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

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
		{"path", "req/s, its own path", "#805ad5"},
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
		if key == "path" {
			key = pathScenario(g)
			if key == "paths" && !hasScenario(runs, "paths") {
				return 0, "", false
			}
		}
		v, ok := summarize(runs, key, g)
		r := ratio(runs, key, g, run.rps)
		return r, fmtRPS(v.rps) + " req/s", ok && !math.IsNaN(r)
	}
	gws := []string{"B", "C", "D", "E"}
	for _, g := range pathOrder {
		if _, ok := summarize(runs, pathScenario(g), g); ok {
			gws = append(gws, g)
		}
	}
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
