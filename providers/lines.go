package providers

import (
	"bufio"
	"bytes"
	"os"
	"strings"
)

// readFile reads a credentials file; the error names the file and what it
// was meant to be.
func readFile(path, kind string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileErr(path, 0, "", "cannot read %s: %v", kind, unwrapPathError(err))
	}
	return data, nil
}

// eachLine calls fn with every line of a line-based credentials file that
// is not blank or a '#' comment, trimmed, with its 1-based number. Editors'
// byte order marks and CRLF endings are dropped. It stops at fn's first
// error.
func eachLine(name string, data []byte, fn func(lineNo int, line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(lineNo, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fileErr(name, lineNo+1, "", "cannot read line: %v", err)
	}
	return nil
}
