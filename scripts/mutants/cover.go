package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// block is one basic block of a coverage profile: from line:col to
// line:col, and whether the tests ran it.
type block struct {
	l0, c0, l1, c1 int
	ran            bool
}

// baseline runs the package's tests (those run names) once, unmutated,
// with a coverage profile. It fails when they fail: a mutant of a package
// whose tests are red would count as killed whatever it does. It returns
// the blocks of file and how long the run took.
func baseline(tmp, file, run string) ([]block, time.Duration, error) {
	profile := filepath.Join(tmp, "cover.out")
	args := []string{"test", "-count=1", "-vet=off", "-coverprofile", profile}
	if run != "" {
		args = append(args, "-run", run)
	}
	args = append(args, "./"+filepath.Dir(file))
	start := time.Now()
	out, err := exec.Command("go", args...).CombinedOutput()
	took := testTime(string(out), time.Since(start))
	if err != nil {
		return nil, took, fmt.Errorf("%s: the tests fail unmutated:\n%s", file, out)
	}
	f, err := os.Open(profile)
	if err != nil {
		return nil, took, err
	}
	defer f.Close()
	var blocks []block
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// name.go:l0.c0,l1.c1 statements count
		line := sc.Text()
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(name, "/"+filepath.ToSlash(file)) && name != file {
			continue
		}
		var b block
		var stmts, count int
		if _, err := fmt.Sscanf(rest, "%d.%d,%d.%d %d %d", &b.l0, &b.c0, &b.l1, &b.c1, &stmts, &count); err != nil {
			continue
		}
		b.ran = count > 0
		blocks = append(blocks, b)
	}
	return blocks, took, sc.Err()
}

// testTime is how long the tests ran, as go test prints it ("ok  pkg
// 1.234s"), without the build; else wall, the whole run.
func testTime(out string, wall time.Duration) time.Duration {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "ok" {
			if d, err := time.ParseDuration(f[2]); err == nil {
				return d
			}
		}
	}
	return wall
}

// covered reports whether the tests ran the code at line:col. A place in
// no block at all (a case expression, a package-level var) counts as run:
// only code the profile shows the tests never reached is left out.
func covered(blocks []block, line, col int) bool {
	in := false
	for _, b := range blocks {
		after := line > b.l0 || line == b.l0 && col >= b.c0
		before := line < b.l1 || line == b.l1 && col <= b.c1
		if after && before {
			if b.ran {
				return true
			}
			in = true
		}
	}
	return !in
}

// autoTimeout is the per-mutant test timeout when -timeout is 0: ten
// times the unmutated tests' run, at least 30 s.
func autoTimeout(took time.Duration) time.Duration {
	return max(30*time.Second, 10*took)
}
