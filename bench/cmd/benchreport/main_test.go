package main

import (
	"strings"
	"testing"
)

func TestWriteSkipped(t *testing.T) {
	var b strings.Builder
	writeSkipped(&b, nil)
	if b.Len() != 0 {
		t.Fatalf("nothing skipped, yet: %q", b.String())
	}
	writeSkipped(&b, [][]string{
		{"instructions per request (callgrind)", "valgrind-3.19.0 cannot run the gateway: SIGILL | `x`"},
		{"nginx auth_basic (E)"},
	})
	got := b.String()
	for _, want := range []string{
		"#### Not measured on this machine",
		"| instructions per request (callgrind) | valgrind-3.19.0 cannot run the gateway: SIGILL \\| 'x' |",
		"| nginx auth_basic (E) |  |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// With no load runs (no wrk) the report keeps what there is and has no
// empty tables.
func TestWriteResultsWithoutRuns(t *testing.T) {
	var b strings.Builder
	first := [][]string{{"B", "user001", "200", "0.004", "200", "0.001"}}
	writeResults(&b, map[string]string{"date": "today"}, nil, nil, first, map[string]int{})
	got := b.String()
	if !strings.Contains(got, "#### First request of a new credential") || !strings.Contains(got, "| Caddy + chroma_auth basic | 4.00 |") {
		t.Errorf("first requests missing:\n%s", got)
	}
	for _, absent := range []string{"#### Steady state", "#### 100 distinct", "#### Public route", "#### A stream of wrong", "Every round"} {
		if strings.Contains(got, absent) {
			t.Errorf("empty section %q written:\n%s", absent, got)
		}
	}
}
