package e2e

import (
	"context"
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

// TestRunDemo runs scripts/run-demo.sh (what `make run` calls) on free
// ports, runs the curl line it prints, then presses Ctrl-C (SIGINT) and
// checks that Chroma and the gateway are gone.
func TestRunDemo(t *testing.T) {
	dir := t.TempDir()
	chromaPort, err := freePort()
	require.NoError(t, err)
	gatewayPort, err := freePort()
	require.NoError(t, err)
	for gatewayPort == chromaPort { // nothing binds between the two asks
		gatewayPort, err = freePort()
		require.NoError(t, err)
	}

	cmd := exec.Command("bash", filepath.Join(suite.repoRoot, "scripts", "run-demo.sh"))
	cmd.Dir = suite.repoRoot
	cmd.Env = append(os.Environ(),
		"CHROMA_PORT="+strconv.Itoa(chromaPort),
		"CHROMA_GATEWAY_PORT="+strconv.Itoa(gatewayPort),
		"CHROMA_DEMO_STATE="+filepath.Join(dir, "state"),
		"GATEWAY_BIN="+suite.gatewayBin) // the suite's build, not a second one
	demo, err := startProcess("run-demo.sh", cmd, filepath.Join(dir, "run-demo.log"))
	require.NoError(t, err)
	t.Cleanup(func() {
		demo.stop()
		if t.Failed() {
			t.Logf("run-demo.sh printed:\n%s", demo.log())
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	out := waitForOutput(ctx, t, demo, "Ctrl-C stops both.")
	assert.Contains(t, out, "https://localhost:"+strconv.Itoa(gatewayPort))
	assert.Contains(t, out, filepath.Join(dir, "state", "caddy", "pki", "authorities", "local", "root.crt"))

	try := regexp.MustCompile(`(?m)^\s*Try:\s+(curl .*)$`).FindStringSubmatch(out)
	require.Len(t, try, 2, "a curl line after Try:")
	got, err := exec.CommandContext(ctx, "bash", "-c", try[1]+" --silent --show-error --fail").CombinedOutput()
	require.NoError(t, err, "the printed curl line: %s", got)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(string(got)), "["), "a list of collections: %s", got)

	// Ctrl-C: the terminal sends SIGINT to the script (its children run in
	// sessions of their own, so only the script's trap can stop them).
	require.NoError(t, syscall.Kill(demo.cmd.Process.Pid, syscall.SIGINT))
	select {
	case <-demo.done:
	case <-time.After(15 * time.Second):
		t.Fatal("run-demo.sh did not exit on SIGINT")
	}
	for _, port := range []int{chromaPort, gatewayPort} {
		assert.Eventually(t, func() bool { return !listening(port) }, 10*time.Second, 100*time.Millisecond,
			"nothing listens on %d after Ctrl-C", port)
	}
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
