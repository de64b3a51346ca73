package e2e

import (
	"context"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunDemo takes a newcomer's first steps: `make run` in a fresh copy of
// the repository (its git files only: no node_modules, no .run state, no
// binary), with nothing set but the ports (the knobs the script itself
// names when 8000 or 8443 is taken). It waits for the printed lines, runs
// the printed curl commands and the example clients with the printed
// settings (200 and a working client with the demo credentials, 401
// without), then presses Ctrl-C and checks that Chroma and the gateway are
// gone. `make run` installs the npm packages and builds the gateway itself.
func TestRunDemo(t *testing.T) {
	repo := copyRepository(t, suite.repoRoot, filepath.Join(t.TempDir(), "repo"))
	chromaPort, err := freePort()
	require.NoError(t, err)
	gatewayPort, err := freePort()
	require.NoError(t, err)
	for gatewayPort == chromaPort { // nothing binds between the two asks
		gatewayPort, err = freePort()
		require.NoError(t, err)
	}

	cmd := exec.Command("make", "run")
	cmd.Dir = repo
	cmd.Env = append(newcomerEnv(),
		"CHROMA_PORT="+strconv.Itoa(chromaPort),
		"CHROMA_GATEWAY_PORT="+strconv.Itoa(gatewayPort))
	start := time.Now()
	demo, err := startProcess("make run", cmd, filepath.Join(t.TempDir(), "make-run.log"))
	require.NoError(t, err)
	t.Cleanup(func() {
		demo.stop()
		if t.Failed() {
			t.Logf("make run printed:\n%s", demo.log())
		}
	})

	// npm ci (from npm's cache when it has the packages) and a gateway
	// build (Go's build cache holds all but this copy's own packages).
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out := waitForOutput(ctx, t, demo, "Ctrl-C stops both.")
	t.Logf("make run was up after %s", time.Since(start).Round(100*time.Millisecond))
	caRoot := filepath.Join(repo, ".run", "caddy", "pki", "authorities", "local", "root.crt")
	assert.Contains(t, out, "URL:      https://localhost:"+strconv.Itoa(gatewayPort)+"\n")
	assert.Contains(t, out, "CA root:  "+caRoot+"\n")
	assert.FileExists(t, caRoot)

	sh := func(script string) (string, error) {
		c := exec.CommandContext(ctx, "bash", "-c", script)
		c.Dir = repo
		c.Env = newcomerEnv()
		got, err := c.CombinedOutput()
		return string(got), err
	}
	checkPrintedCurl(t, out, sh)
	checkPrintedClients(t, out, caRoot, sh)
	checkPrintedPython(ctx, t, out)

	// Ctrl-C: the terminal sends SIGINT to the foreground process group,
	// make and the script (whose children run in sessions of their own, so
	// only the script's trap can stop them).
	require.NoError(t, syscall.Kill(-demo.cmd.Process.Pid, syscall.SIGINT))
	select {
	case <-demo.done:
	case <-time.After(15 * time.Second):
		t.Fatal("make run did not exit on SIGINT")
	}
	for _, port := range []int{chromaPort, gatewayPort} {
		assert.Eventually(t, func() bool { return !listening(port) }, 10*time.Second, 100*time.Millisecond,
			"nothing listens on %d after Ctrl-C", port)
	}
}

// checkPrintedCurl runs the demo's two curl lines: the collections with
// the demo credentials (200, a JSON list), and the first one without its
// credentials: 401 with Chroma's body.
func checkPrintedCurl(t *testing.T, out string, sh func(string) (string, error)) {
	t.Helper()
	const status = ` --silent --show-error --write-out '\n%{http_code}'`
	basic := printedLine(t, out, `Try:`)
	require.Contains(t, basic, "-u 'admin:admin:secret'")
	for _, line := range []string{basic, printedLine(t, out, `or:`)} {
		got, err := sh(line + status)
		require.NoError(t, err, "%s: %s", line, got)
		assert.Regexp(t, `^\[.*\]\n200$`, got, line)
	}
	got, err := sh(strings.Replace(basic, "-u 'admin:admin:secret' ", "", 1) + status)
	require.NoError(t, err, got)
	assert.Equal(t, `{"error":"AuthorizationError","message":"Unauthorized"}`+"\n401", got)
}

// checkPrintedClients runs each printed client command with the printed
// settings: it works; with a wrong password the same client is refused
// with a 401.
func checkPrintedClients(t *testing.T, out, caRoot string, sh func(string) (string, error)) {
	t.Helper()
	settings := regexp.MustCompile(`(?m)^ +export .*$`).FindAllString(out, -1)
	require.Len(t, settings, 2, "two export lines")
	assert.Contains(t, settings[0], "NODE_EXTRA_CA_CERTS="+caRoot)
	run := regexp.MustCompile(`(?m)^  then run:\n((?: {4}\S.*\n)+)`).FindStringSubmatch(out)
	require.Len(t, run, 2, "client commands after 'then run:'")
	clients := strings.Split(strings.TrimSpace(run[1]), "\n")
	require.Len(t, clients, 2)
	exports := strings.Join(settings, "\n") + "\n"
	for _, client := range clients {
		client = strings.TrimSpace(client)
		got, err := sh(exports + client)
		require.NoError(t, err, "%s: %s", client, got)
		assert.Contains(t, got, "nearest: cats", client)
		assert.Contains(t, got, "count: 2", client)
		assert.Contains(t, got, "deleted: demo", client)

		got, err = sh(exports + "export CHROMA_PASSWORD=wrong\n" + client)
		require.Error(t, err, "%s with a wrong password: %s", client, got)
		assert.Regexp(t, `401|Unauthorized|AuthorizationError`, got, client)
	}
}

// printedLine is the command after label (e.g. "Try:") in the demo's output.
func printedLine(t *testing.T, out, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `\s+(curl .*)$`).FindStringSubmatch(out)
	require.Len(t, m, 2, "a curl line after %s", label)
	return m[1]
}

// newcomerEnv is the test's environment without what a newcomer's shell
// would not have: the project's own settings (CHROMA_*, trust of a CA by
// file) and the make variables of a `make test` this runs under.
func newcomerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "CHROMA_"), name == "NODE_EXTRA_CA_CERTS",
			name == "MAKEFLAGS", name == "MFLAGS", name == "MAKELEVEL":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// copyRepository copies the files git knows in src (tracked, and new ones
// not ignored: the tree a commit of it would hold) to dst, as a clone
// would, and returns dst. Nothing ignored comes along: no node_modules, no
// .run, no built binary.
func copyRepository(t *testing.T, src, dst string) string {
	t.Helper()
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = src
	list, err := ls.Output()
	require.NoError(t, err, "git ls-files in %s: %s", src, stderrOf(err))
	n := 0
	for _, name := range strings.Split(strings.TrimSuffix(string(list), "\x00"), "\x00") {
		from, to := filepath.Join(src, name), filepath.Join(dst, name)
		info, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted, not committed yet
		}
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(from)
			require.NoError(t, err)
			require.NoError(t, os.Symlink(target, to))
		case info.Mode().IsRegular():
			data, err := os.ReadFile(from)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(to, data, info.Mode().Perm()))
		}
		n++
	}
	require.NotZero(t, n, "no files listed in %s", src)
	require.FileExists(t, filepath.Join(dst, "Makefile"))
	require.NoDirExists(t, filepath.Join(dst, "e2e", "node_modules"))
	return dst
}

// waitForOutput waits until the process has printed want, and returns all
// it printed.
func waitForOutput(ctx context.Context, t *testing.T, p *process, want string) string {
	t.Helper()
	for {
		out := p.log()
		if strings.Contains(out, want) {
			return out
		}
		if dead, err := p.exited(); dead {
			t.Fatalf("%s exited (%v) before printing %q:\n%s", p.name, err, want, out)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not print %q in time:\n%s", p.name, want, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
