// Command mutants is a small mutation tester: for each Go file given, it
// makes one mutant per comparison or logical operator (flipped: == to !=,
// < to >=, && to ||, ...), runs the file's package tests against it with
// `go test -overlay` (the source tree is never written), and reports
// which mutants no test kills. Not part of `make test`: run `make mutants`.
//
//	go run ./scripts/mutants -timeout 2m authz/rbac.go providers/least.go > mutants/REPORT.md
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

var flips = map[token.Token]token.Token{
	token.EQL: token.NEQ, token.NEQ: token.EQL,
	token.LSS: token.GEQ, token.GEQ: token.LSS,
	token.GTR: token.LEQ, token.LEQ: token.GTR,
	token.LAND: token.LOR, token.LOR: token.LAND,
}

func main() {
	timeout := flag.Duration("timeout", 2*time.Minute, "per-mutant test timeout")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "mutants")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	total, killed := 0, 0
	var survivors []string
	for _, file := range flag.Args() {
		abs, _ := filepath.Abs(file)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, abs, nil, parser.ParseComments)
		if err != nil {
			fail(err)
		}
		var sites []*ast.BinaryExpr
		ast.Inspect(f, func(n ast.Node) bool {
			if b, ok := n.(*ast.BinaryExpr); ok {
				if _, ok := flips[b.Op]; ok {
					sites = append(sites, b)
				}
			}
			return true
		})
		for i, b := range sites {
			orig := b.Op
			b.Op = flips[orig]
			var buf bytes.Buffer
			if err := printer.Fprint(&buf, fset, f); err != nil {
				fail(err)
			}
			b.Op = orig
			mutant := filepath.Join(tmp, fmt.Sprintf("m%d.go", i))
			overlay := filepath.Join(tmp, "overlay.json")
			_ = os.WriteFile(mutant, buf.Bytes(), 0o600)
			ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{abs: mutant}})
			_ = os.WriteFile(overlay, ov, 0o600)
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-overlay", overlay, "./"+filepath.Dir(file))
			out, err := cmd.CombinedOutput()
			cancel()
			total++
			where := fmt.Sprintf("%s:%d: %s → %s", file, fset.Position(b.OpPos).Line, orig, flips[orig])
			switch {
			case err != nil && !strings.Contains(string(out), "build failed") && !strings.Contains(string(out), "[setup failed]"):
				killed++
			case err != nil:
				total-- // does not build: not a mutant
			default:
				survivors = append(survivors, where)
			}
			fmt.Fprintf(os.Stderr, "%d/%d %s\n", i+1, len(sites), where)
		}
	}
	fmt.Printf("# Mutants\n\n`make mutants` (scripts/mutants): comparison and logical operators flipped, one mutant each, package tests run against it.\n\n")
	fmt.Printf("Files: %s\n\nScore: %d of %d killed\n\n## Survivors\n\n", strings.Join(flag.Args(), ", "), killed, total)
	for _, s := range survivors {
		fmt.Printf("- %s\n", s)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
