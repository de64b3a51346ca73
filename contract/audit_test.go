package contract

import (
	"encoding/json"
	"go/ast"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/modules/standard" // reverse_proxy and the log writers, as in the binary
)

// auditFields are the top-level field names the audit package (audit/)
// writes: an object encoder's enc.AddString("name", …) (AddInt64,
// AddArray, AddBool), addNonEmpty(enc, "name", …), and the hand-written
// line's appendField(b, "name", …) and appendNonEmpty(b, "name", …) (the
// audit's own output; TestAppendLineAsZap holds the two alike). The
// members of a collection in the collections array (touchedEntry's
// MarshalLogObject, appendTouched) are not fields of the line.
func auditFields(t *testing.T) map[string]bool {
	src := parseDir(t, "audit")
	out := map[string]bool{}
	for _, f := range src.files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || receiverIs(fn, "touchedEntry") || fn.Name.Name == "appendTouched" {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					if v, ok := auditFieldOf(c); ok {
						out[v] = true
					}
				}
				return true
			})
		}
	}
	return out
}

// auditFieldOf is the field name a call adds to an audit line, if it adds one.
func auditFieldOf(c *ast.CallExpr) (string, bool) {
	var arg ast.Expr
	switch name := callName(c); {
	case (name == "addNonEmpty" || name == "appendNonEmpty" || name == "appendField") && len(c.Args) == 3:
		arg = c.Args[1]
	case len(c.Args) == 2:
		sel, ok := c.Fun.(*ast.SelectorExpr)
		if !ok {
			return "", false
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return "", false
		}
		if x.Name == "enc" && strings.HasPrefix(name, "Add") {
			arg = c.Args[0]
		}
	}
	if arg == nil {
		return "", false
	}
	return literal(arg)
}

// receiverIs reports whether fn is a method of the type named typ.
func receiverIs(fn *ast.FuncDecl, typ string) bool {
	if fn.Recv == nil || len(fn.Recv.List) != 1 {
		return false
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.Name == typ
}

// TestReadmeListsEveryAuditField: the Audit log section's field table
// names exactly the fields an audit line can have (besides zap's level,
// ts, logger and msg), its decision row exactly the decisions, and the
// example line is JSON with documented fields only.
func TestReadmeListsEveryAuditField(t *testing.T) {
	code := auditFields(t)
	if !code["request_id"] || !code["decision"] {
		t.Fatalf("the scan of audit/ found no request_id or decision field: it is broken (%v)", keys(code))
	}
	sec := section(t, readme(t), "## Audit log")
	doc := map[string]bool{}
	var decisions map[string]bool
	for _, row := range tableRows(t, sec, "field") {
		names := spans(row[0])
		for _, n := range names {
			doc[n] = true
		}
		if len(names) == 1 && names[0] == "decision" {
			decisions = set(spans(strings.Join(row[1:], "|"))...)
		}
	}
	compare(t, code, doc,
		"the audit line has field %q, which README's audit table (## Audit log) lacks",
		"README's audit table (## Audit log) names field %q, which no audit line has")
	compare(t, parseDir(t, "audit").stringConsts("Decision", nil), decisions,
		"audit decision %q (a constant audit.Decision… in the code) is not in README's decision row (## Audit log)",
		"README's decision row (## Audit log) names %q, which is no audit.Decision… constant in the code")

	blocks := fences(sec, "json")
	if len(blocks) == 0 {
		t.Fatal("README's Audit log section has no example line")
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(blocks[0]), &line); err != nil {
		t.Fatalf("README's example audit line is not JSON: %v", err)
	}
	for k := range line {
		if !doc[k] && k != "level" && k != "ts" && k != "logger" && k != "msg" {
			t.Errorf("README's example audit line has field %q, which the table does not document", k)
		}
	}
}

// TestReadmeAuditExamplesAdapt: every site of the Audit log section's
// Caddyfile examples adapts, as `caddy adapt` would, and the one that
// names an output puts it in the audit's JSON as the section says.
func TestReadmeAuditExamplesAdapt(t *testing.T) {
	sec := section(t, readme(t), "## Audit log")
	var outputs int
	for _, b := range fences(sec, "caddyfile") {
		if !strings.Contains(b, "chroma_auth {") {
			continue // the audit block's option list, checked by TestReadmeListsEveryAuditOption
		}
		cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(b), map[string]any{"filename": "README.md"})
		if err != nil {
			t.Fatalf("README's audit example does not adapt: %v\n%s", err, b)
		}
		if strings.Contains(b, "\t\taudit {\n\t\t\toutput file") {
			outputs++
			if !strings.Contains(string(cfg), `"audit":{"output":{"filename":"/var/log/caddy/chroma-audit.log","output":"file"`) {
				t.Errorf("the audit's output is not in the adapted JSON:\n%s", cfg)
			}
		}
	}
	if outputs != 1 {
		t.Fatalf("README's Audit log section has %d examples of the audit's own output, want 1", outputs)
	}
}
