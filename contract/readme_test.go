// Package contract holds the README to the code: every Caddyfile
// subdirective the parser accepts, every metric, label and reason the code
// can emit, every log message, the audit fields and the layout are
// documented, and nothing the README names is missing from the code. The
// tests read README.md and the Go sources of the repository root; they
// fail with a message that says what to document (or remove).
package contract

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// readme is README.md, read once.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section is the text of the README section whose heading is exactly
// heading ("## Metrics"), up to the next heading of the same or a higher
// level.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	level := strings.Index(heading, " ")
	lines := strings.Split(doc, "\n")
	start := -1
	inFence := false
	var out []string
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			inFence = !inFence
		}
		if start < 0 {
			if l == heading {
				start = i
			}
			continue
		}
		if !inFence && strings.HasPrefix(l, "#") {
			hl := strings.Index(l, " ")
			if hl > 0 && hl <= level && strings.Trim(l[:hl], "#") == "" {
				break
			}
		}
		out = append(out, l)
	}
	if start < 0 {
		t.Fatalf("README.md has no heading %q", heading)
	}
	return strings.Join(out, "\n")
}

// fences are the fenced code blocks of text whose info string is lang.
func fences(text, lang string) []string {
	var blocks []string
	var cur []string
	in := false
	for _, l := range strings.Split(text, "\n") {
		switch {
		case !in && strings.TrimSpace(l) == "```"+lang:
			in, cur = true, nil
		case in && strings.TrimSpace(l) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, l)
		}
	}
	return blocks
}

// tableRows are the rows of the first Markdown table in text whose header
// row starts with the cell header, as cells (trimmed), header excluded.
func tableRows(t *testing.T, text, header string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "|") {
			if in {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if !in {
			if cells[0] == header {
				in = true
			}
			continue
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		rows = append(rows, cells)
	}
	if !in {
		t.Fatalf("README.md has no table whose first column is %q", header)
	}
	return rows
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// spans are the `code spans` of text.
func spans(text string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// set makes a set of words.
func set(words ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words {
		m[w] = true
	}
	return m
}

// compare reports every word the code has and the README lacks (with
// missing, a format for the word) and every word the README has and the
// code lacks (with extra).
func compare(t *testing.T, code, doc map[string]bool, missing, extra string) {
	t.Helper()
	for w := range code {
		if !doc[w] {
			t.Errorf(missing, w)
		}
	}
	for w := range doc {
		if !code[w] {
			t.Errorf(extra, w)
		}
	}
}
