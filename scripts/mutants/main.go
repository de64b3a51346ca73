// Command mutants is a small mutation tester: for each Go file given, it
// makes one mutant per comparison or logical operator (flipped: == to !=,
// < to >=, && to ||, ...) and per logical not (dropped), runs the file's
// package tests against it with `go test -overlay` (the source tree is
// never written), and reports which mutants no test kills. Not part of
// `make test`: run `make mutants`.
//
// An argument is a file, or file=regexp to run only the tests the regexp
// names (for a package whose whole suite is too slow to run per mutant).
// -budget bounds the whole run: the mutants it leaves are listed as not
// run.
//
// Before the mutants of a file, its package's tests run once unmutated
// with a coverage profile: they must pass, and a mutant in code the
// profile shows they never reach is reported as not covered (a survivor)
// without a run. Each run is `go test -vet=off -failfast` (vet would count
// a mutant it dislikes as killed), with a timeout of ten times the
// unmutated run (-timeout 0, the default) or -timeout.
//
//	go run ./scripts/mutants -budget 30m authz/rbac.go 'authenticate.go=Limiter|JWT' > mutants/REPORT.md
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

var flips = map[token.Token]token.Token{
	token.EQL: token.NEQ, token.NEQ: token.EQL,
	token.LSS: token.GEQ, token.GEQ: token.LSS,
	token.GTR: token.LEQ, token.LEQ: token.GTR,
	token.LAND: token.LOR, token.LOR: token.LAND,
}

// mutant is one change of a file: the bytes [off, off+n) become repl.
type mutant struct {
	off, n int
	repl   string
	line   int
	col    int
	what   string
}

type result struct {
	file, where, code string
	outcome           string // killed, survived, not covered, not run
}

func main() {
	timeout := flag.Duration("timeout", 0, "per-mutant test timeout (a mutant that hangs the tests counts as killed); 0: ten times the unmutated run, at least 30s")
	budget := flag.Duration("budget", 0, "bound on the whole run; 0: none")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "mutants")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	var results []result
	for _, arg := range flag.Args() {
		file, run, _ := strings.Cut(arg, "=")
		abs, err := filepath.Abs(file)
		if err != nil {
			fail(err)
		}
		src, err := os.ReadFile(abs)
		if err != nil {
			fail(err)
		}
		ms, err := sites(abs, src)
		if err != nil {
			fail(err)
		}
		lines := strings.Split(string(src), "\n")
		var blocks []block
		limit := *timeout
		if len(ms) > 0 && (*budget == 0 || time.Since(start) < *budget) {
			var took time.Duration
			if blocks, took, err = baseline(tmp, file, run); err != nil {
				fail(err)
			}
			if limit == 0 {
				limit = autoTimeout(took)
			}
		}
		for i, m := range ms {
			r := result{file: file, where: fmt.Sprintf("%s:%d: %s", file, m.line, m.what), code: strings.TrimSpace(lines[m.line-1])}
			if *budget > 0 && time.Since(start) > *budget {
				r.outcome = "not run"
				results = append(results, r)
				continue
			}
			if !covered(blocks, m.line, m.col) {
				r.outcome = "not covered"
				results = append(results, r)
				fmt.Fprintf(os.Stderr, "%d/%d %s %s\n", i+1, len(ms), r.where, r.outcome)
				continue
			}
			mutated := string(src[:m.off]) + m.repl + string(src[m.off+m.n:])
			r.outcome = runMutant(tmp, abs, file, run, mutated, limit)
			if r.outcome != "" {
				results = append(results, r)
			}
			fmt.Fprintf(os.Stderr, "%d/%d %s %s\n", i+1, len(ms), r.where, r.outcome)
		}
	}
	report(flag.Args(), results, time.Since(start))
}

// sites lists the mutants of one file, in source order.
func sites(abs string, src []byte) ([]mutant, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, abs, src, 0)
	if err != nil {
		return nil, err
	}
	var ms []mutant
	ast.Inspect(f, func(n ast.Node) bool {
		switch e := n.(type) {
		case *ast.BinaryExpr:
			if to, ok := flips[e.Op]; ok {
				p := fset.Position(e.OpPos)
				ms = append(ms, mutant{off: p.Offset, n: len(e.Op.String()), repl: to.String(), line: p.Line, col: p.Column, what: e.Op.String() + " → " + to.String()})
			}
		case *ast.UnaryExpr:
			if e.Op == token.NOT {
				p := fset.Position(e.OpPos)
				ms = append(ms, mutant{off: p.Offset, n: 1, repl: " ", line: p.Line, col: p.Column, what: "! dropped"})
			}
		}
		return true
	})
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].off < ms[j].off })
	return ms, nil
}

// runMutant runs the package's tests against the mutated file: "killed",
// "survived", or "" when the mutant does not build (no mutant at all).
func runMutant(tmp, abs, file, run, mutated string, timeout time.Duration) string {
	path := filepath.Join(tmp, "mutant.go")
	overlay := filepath.Join(tmp, "overlay.json")
	_ = os.WriteFile(path, []byte(mutated), 0o600)
	ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{abs: path}})
	_ = os.WriteFile(overlay, ov, 0o600)
	args := []string{"test", "-count=1", "-vet=off", "-failfast", "-overlay", overlay, "-timeout", timeout.String()}
	if run != "" {
		args = append(args, "-run", run)
	}
	args = append(args, "./"+filepath.Dir(file))
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	switch {
	case err == nil:
		return "survived"
	case strings.Contains(string(out), "build failed") || strings.Contains(string(out), "[setup failed]"):
		return ""
	}
	return "killed"
}

func report(args []string, results []result, took time.Duration) {
	count := map[string]int{}
	for _, r := range results {
		count[r.outcome]++
	}
	fmt.Printf("# Mutants\n\n`make mutants` (scripts/mutants): each comparison and logical operator flipped (`==`/`!=`, `<`/`>=`, `>`/`<=`, `&&`/`||`) and each logical not dropped, one mutant at a time; the file's package tests run against it (`go test -overlay`, nothing written).\n\n")
	fmt.Printf("Files: %s\n\n", strings.Join(args, ", "))
	fmt.Printf("Score: %d of %d killed (%d survived, %d in code the tests never reach; %d not run within the budget); %s\n\n",
		count["killed"], count["killed"]+count["survived"]+count["not covered"], count["survived"], count["not covered"], count["not run"], took.Round(time.Second))
	files := []string{}
	per := map[string]map[string]int{}
	for _, r := range results {
		if per[r.file] == nil {
			per[r.file] = map[string]int{}
			files = append(files, r.file)
		}
		per[r.file][r.outcome]++
	}
	fmt.Printf("| file | killed | survived | not covered | not run |\n|---|---|---|---|---|\n")
	for _, f := range files {
		c := per[f]
		fmt.Printf("| %s | %d | %d | %d | %d |\n", f, c["killed"], c["survived"], c["not covered"], c["not run"])
	}
	fmt.Printf("\n## Survivors\n\n")
	for _, r := range results {
		if r.outcome == "survived" || r.outcome == "not covered" {
			fmt.Printf("- %s — `%s`%s\n", r.where, r.code, map[bool]string{true: " (not covered)"}[r.outcome == "not covered"])
		}
	}
	if count["not run"] > 0 {
		fmt.Printf("\n## Not run\n\n")
		for _, r := range results {
			if r.outcome == "not run" {
				fmt.Printf("- %s\n", r.where)
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
