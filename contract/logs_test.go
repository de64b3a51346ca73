package contract

import (
	"go/ast"
	"strings"
	"testing"
)

// logMessages are the messages the package logs with a literal text, by
// level: x.Info("…"), x.Warn("…"), x.Error("…"), x.Debug("…") and
// x.Check(zapcore.XLevel, "…").
func (s *source) logMessages() map[string]string {
	out := map[string]string{}
	s.calls(func(_ string, c *ast.CallExpr) {
		name := callName(c)
		switch name {
		case "Info", "Warn", "Error", "Debug":
			if _, ok := c.Fun.(*ast.SelectorExpr); !ok || len(c.Args) == 0 {
				return
			}
			if msg, ok := literal(c.Args[0]); ok {
				out[msg] = strings.ToUpper(name)
			}
		case "Check":
			if len(c.Args) != 2 {
				return
			}
			lvl, ok := c.Args[0].(*ast.SelectorExpr)
			if msg, ok2 := literal(c.Args[1]); ok && ok2 {
				out[msg] = strings.ToUpper(strings.TrimSuffix(lvl.Sel.Name, "Level"))
			}
		}
	})
	return out
}

// handlerLogMessages are the log messages of every handlerDirs package.
func handlerLogMessages(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, dir := range handlerDirs {
		for msg, lvl := range parseDir(t, dir).logMessages() {
			out[msg] = lvl
		}
	}
	return out
}

// TestReadmeListsEveryLogMessage: the Metrics section's log table names
// exactly the messages the handler logs, each at its level, word for word:
// operators write alerts and searches from these texts.
func TestReadmeListsEveryLogMessage(t *testing.T) {
	code := handlerLogMessages(t)
	if code["request denied"] != "DEBUG" {
		t.Fatalf("the scan did not find the DEBUG line `request denied`: it is broken (%v)", code)
	}
	doc := map[string]string{}
	for _, row := range tableRows(t, section(t, readme(t), "## Metrics"), "message") {
		msg := spans(row[0])
		if len(msg) != 1 || len(row) < 2 {
			t.Errorf("README's log table: row %v: want `message` | LEVEL | fields", row)
			continue
		}
		doc[msg[0]] = row[1]
	}
	for msg, lvl := range code {
		switch d, ok := doc[msg]; {
		case !ok:
			t.Errorf("the code logs %q (%s), which README's log table (## Metrics) lacks", msg, lvl)
		case d != lvl:
			t.Errorf("the code logs %q at %s; README's log table says %s", msg, lvl, d)
		}
	}
	for msg := range doc {
		if _, ok := code[msg]; !ok {
			t.Errorf("README's log table (## Metrics) names %q, which the code never logs", msg)
		}
	}
}

// TestReadmeQuotesLogMessagesWhole: wherever the README quotes a log
// message, it quotes all of it: an alert on a shortened text that the code
// writes differently must not look right.
func TestReadmeQuotesLogMessagesWhole(t *testing.T) {
	code := handlerLogMessages(t)
	for _, s := range spans(readme(t)) {
		for msg := range code {
			if s != msg && len(s) >= 12 && (strings.HasPrefix(msg, s) || strings.HasPrefix(s, msg)) {
				t.Errorf("README quotes `%s`; the code logs %q", s, msg)
			}
		}
	}
}
