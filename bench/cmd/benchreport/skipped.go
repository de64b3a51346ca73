package main

import (
	"fmt"
	"os"
	"strings"
)

// readOptionalTSV is readTSV of a file that may be missing (no rows).
func readOptionalTSV(path string) [][]string {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	return readTSV(path)
}

// writeSkipped lists the steps bench/run.sh could not run on this machine
// (skipped.tsv: step, why), so that a missing table says why it is missing.
func writeSkipped(b *strings.Builder, rows [][]string) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### Not measured on this machine\n\n| step | why |\n|---|---|\n")
	for _, r := range rows {
		why := ""
		if len(r) > 1 {
			why = strings.Join(r[1:], " ")
		}
		fmt.Fprintf(b, "| %s | %s |\n", mdCell(r[0]), mdCell(why))
	}
}

// mdCell makes text safe in a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "`", "'").Replace(strings.TrimSpace(s))
}
