package contract

import (
	"go/ast"
	"regexp"
	"strings"
	"testing"
)

// metric is one Prometheus metric the code registers.
type metric struct {
	labels []string
}

// allStringConsts are every string constant of the package by name
// (function-local ones too), for resolving names used in metric options.
func (s *source) allStringConsts() map[string]string {
	out := map[string]string{}
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if v, ok := literal(vs.Values[i]); ok {
							out[name.Name] = v
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// metrics are the metrics the package defines: every prometheus.*Opts
// literal gives a name (namespace_subsystem_name); a New*Vec call its
// labels.
func (s *source) metrics(t *testing.T) map[string]metric {
	t.Helper()
	consts := s.allStringConsts()
	str := func(e ast.Expr) string {
		if v, ok := literal(e); ok {
			return v
		}
		if id, ok := e.(*ast.Ident); ok {
			if v, ok := consts[id.Name]; ok {
				return v
			}
		}
		t.Fatalf("metric option %s: not a literal or a constant the test can read", s.fset.Position(e.Pos()))
		return ""
	}
	fqName := func(cl *ast.CompositeLit) (string, bool) {
		sel, ok := cl.Type.(*ast.SelectorExpr)
		if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
			return "", false
		}
		var parts []string
		for _, field := range []string{"Namespace", "Subsystem", "Name"} {
			for _, e := range cl.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok && kv.Key.(*ast.Ident).Name == field {
					if v := str(kv.Value); v != "" {
						parts = append(parts, v)
					}
				}
			}
		}
		return strings.Join(parts, "_"), true
	}
	out := map[string]metric{}
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch v := n.(type) {
			case *ast.CompositeLit:
				if name, ok := fqName(v); ok {
					if _, seen := out[name]; !seen {
						out[name] = metric{}
					}
				}
			case *ast.CallExpr:
				if !strings.HasSuffix(callName(v), "Vec") || len(v.Args) != 2 {
					return true
				}
				opts, ok := v.Args[0].(*ast.CompositeLit)
				labels, ok2 := v.Args[1].(*ast.CompositeLit)
				if !ok || !ok2 {
					return true
				}
				name, ok := fqName(opts)
				if !ok {
					return true
				}
				var m metric
				for _, e := range labels.Elts {
					m.labels = append(m.labels, str(e))
				}
				out[name] = m
			}
			return true
		})
	}
	return out
}

var metricCell = regexp.MustCompile(`^` + "`" + `([a-z_:]+)(?:\{([a-z_,]+)\})?` + "`$")

// TestReadmeListsEveryMetric: the Metrics table names exactly the metrics
// the code registers, with their labels, and for each label named X whose
// values are the package's constants named X… (result, reason), exactly
// those values.
func TestReadmeListsEveryMetric(t *testing.T) {
	src := parseDirs(t, handlerDirs...)
	code := src.metrics(t)
	if len(code) == 0 {
		t.Fatal("found no metric in the code: the scan is broken")
	}
	sec := section(t, readme(t), "## Metrics")
	doc := map[string]metric{}
	docValues := map[string]map[string]bool{}
	for _, row := range tableRows(t, sec, "metric") {
		m := metricCell.FindStringSubmatch(row[0])
		if m == nil {
			t.Errorf("README's Metrics table: first cell %q is not `name` or `name{label}`", row[0])
			continue
		}
		var labels []string
		if m[2] != "" {
			labels = strings.Split(m[2], ",")
		}
		doc[m[1]] = metric{labels: labels}
		docValues[m[1]] = set(spans(strings.Join(row[1:], "|"))...)
	}
	other := map[string]*source{"authz": parseDir(t, "authz"), "admission": parseDir(t, "admission")}
	for name, m := range code {
		d, ok := doc[name]
		if !ok {
			t.Errorf("metric %q is registered by the code but not in README's Metrics table", name)
			continue
		}
		if strings.Join(m.labels, ",") != strings.Join(d.labels, ",") {
			t.Errorf("metric %q has labels {%s} in the code, {%s} in README's Metrics table", name, strings.Join(m.labels, ","), strings.Join(d.labels, ","))
		}
		for _, label := range m.labels {
			values := src.stringConsts(label, other)
			if len(values) == 0 {
				continue
			}
			compare(t, values, docValues[name],
				"label value %q (a constant "+label+"… in the code) is not in README's Metrics row of "+name,
				"README's Metrics row of "+name+" names %q, which is no "+label+"… constant in the code")
		}
	}
	for name := range doc {
		if _, ok := code[name]; !ok {
			t.Errorf("README's Metrics table names %q, which the code does not register", name)
		}
	}
}

// TestLabelValuesAreConstants: the reasons and results are counted from
// constants only, so that the constants are every value the metrics can
// carry (and the test above sees them all).
func TestLabelValuesAreConstants(t *testing.T) {
	src := parseDirs(t, handlerDirs...)
	src.calls(func(file string, c *ast.CallExpr) {
		switch callName(c) {
		case "Denied", "Request", "forbid", "reject":
		default:
			return
		}
		for _, a := range c.Args {
			if v, ok := literal(a); ok {
				t.Errorf("%s: %s(…%q…): a reason or result must be a constant named reason… or result…, which the README contract test checks", src.fset.Position(c.Pos()), callName(c), v)
			}
			if b, ok := a.(*ast.BinaryExpr); ok {
				t.Errorf("%s: %s: a reason or result built at run time (%T) escapes the README contract test; use a constant", src.fset.Position(b.Pos()), callName(c), b)
			}
		}
	})
}

// TestLabelConstantsAreUsed: every reason…, result… and decision…
// constant the README documents is used by the code, so a documented value
// is one the code can emit, not a leftover. (A constant that names another
// package's, such as authz.ReasonMissing, stands for the value that
// package emits.)
func TestLabelConstantsAreUsed(t *testing.T) {
	src := parseDir(t, ".")
	declared := map[*ast.Ident]bool{}
	used := map[string]bool{}
	for _, f := range src.files {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				for _, p := range []string{"reason", "result", "decision"} {
					if !strings.HasPrefix(name.Name, p) {
						continue
					}
					if i < len(vs.Values) {
						if _, alias := vs.Values[i].(*ast.SelectorExpr); alias {
							continue
						}
					}
					declared[name] = true
				}
			}
			return true
		})
	}
	for _, f := range src.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && !declared[id] {
				used[id.Name] = true
			}
			return true
		})
	}
	for id := range declared {
		if !used[id.Name] {
			t.Errorf("%s: constant %s is declared (and so documented) but never used", src.fset.Position(id.Pos()), id.Name)
		}
	}
}

var reasonWord = regexp.MustCompile(`^[a-z][a-z_]*$`)

// TestDecisionReasonsAreDocumented: a reason word the authz package gives
// a decision (Reason: "bad_body", d.Reason = "lookup_unavailable") is one
// of the README's denied_total reasons, so that a decision step that
// counts its own reasons stays documented.
func TestDecisionReasonsAreDocumented(t *testing.T) {
	var doc map[string]bool
	for _, row := range tableRows(t, section(t, readme(t), "## Metrics"), "metric") {
		if strings.HasPrefix(row[0], "`caddy_chroma_auth_denied_total") {
			doc = set(spans(strings.Join(row[1:], "|"))...)
		}
	}
	if doc == nil {
		t.Fatal("README's Metrics table has no denied_total row")
	}
	src := parseDirs(t, "authz", "rowsproxy", "admission")
	check := func(pos ast.Node, e ast.Expr) {
		if v, ok := literal(e); ok && reasonWord.MatchString(v) && !doc[v] {
			t.Errorf("%s: the authz package gives a decision reason %q, which README's denied_total row (## Metrics) lacks", src.fset.Position(pos.Pos()), v)
		}
	}
	for _, f := range src.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch v := n.(type) {
			case *ast.KeyValueExpr:
				if k, ok := v.Key.(*ast.Ident); ok && k.Name == "Reason" {
					check(v, v.Value)
				}
			case *ast.AssignStmt:
				for i, l := range v.Lhs {
					if sel, ok := l.(*ast.SelectorExpr); ok && sel.Sel.Name == "Reason" && i < len(v.Rhs) {
						check(v, v.Rhs[i])
					}
				}
			}
			return true
		})
	}
}
