package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nativeDifferencesFile = "testdata/native_differences.tsv"

// startNative06 runs chromadb 0.6.3's server (e2e/.venv-0.6) with env,
// its native auth, on a free port with a data folder in dir.
func startNative06(dir string, env []string) (*process, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(filepath.Join(suite.e2eDir, ".venv-0.6", "bin", "chroma"), "run",
		"--path", filepath.Join(dir, "data"), "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "ANONYMIZED_TELEMETRY=False", "HOME="+dir), env...)
	proc, err := startProcess("chroma-0.6.3", cmd, filepath.Join(dir, "chroma.log"))
	if err != nil {
		return nil, "", err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := waitFor(ctx, plainHTTPClient(), url+"/api/v2/heartbeat", proc); err != nil {
		proc.stop()
		return nil, "", fmt.Errorf("chroma 0.6.3: %v\n%s", err, proc.log())
	}
	return proc, url, nil
}

// nativeDifference is a row of testdata/native_differences.tsv: setup,
// credential, request ("METHOD path"), what Chroma 0.6.3 answers, what the
// gateway answers (each a glob: * for any text, | between alternatives),
// and the reason.
type nativeDifference struct {
	line    int
	match   [5]*regexp.Regexp
	reason  string
	matched int
}

func readNativeDifferences(t *testing.T) []*nativeDifference {
	f, err := os.Open(nativeDifferencesFile)
	require.NoError(t, err)
	defer f.Close()
	var out []*nativeDifference
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		require.Len(t, cols, 6, "%s:%d: setup, credential, request, 0.6.3 answer, gateway answer, reason (tab-separated)", nativeDifferencesFile, n)
		require.NotEmpty(t, strings.TrimSpace(cols[5]), "%s:%d: a reason", nativeDifferencesFile, n)
		d := &nativeDifference{line: n, reason: cols[5]}
		for i := range d.match {
			d.match[i] = nativeGlob(cols[i])
		}
		out = append(out, d)
	}
	require.NoError(t, sc.Err())
	return out
}

// nativeGlob compiles a column of the differences file: alternatives
// split by |, each matched whole, * standing for any text.
func nativeGlob(col string) *regexp.Regexp {
	alts := strings.Split(col, "|")
	for i, a := range alts {
		alts[i] = strings.ReplaceAll(regexp.QuoteMeta(a), `\*`, ".*")
	}
	return regexp.MustCompile("^(?:" + strings.Join(alts, "|") + ")$")
}

// explains reports whether d lists the difference in key (5 fields).
func (d *nativeDifference) explains(key [5]string) bool {
	for i, re := range d.match {
		if !re.MatchString(key[i]) {
			return false
		}
	}
	return true
}

// nativeAnswer sends one request and returns what the comparison looks at:
// the status and, for an error, the body. The bodies of successes hold
// each server's own data (ids, times, versions), so only their status is
// compared.
func nativeAnswer(t *testing.T, client *http.Client, base string, r nativeRoute, own string, c nativeCred) string {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(strings.ReplaceAll(r.body, "%s", own))
	}
	req, err := http.NewRequestWithContext(t.Context(), r.method, base+strings.ReplaceAll(r.path, "%s", own), body)
	require.NoError(t, err)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range c.headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header[http.CanonicalHeaderKey(name)] = []string{strings.TrimSpace(value)}
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode < 400 {
		return strconv.Itoa(resp.StatusCode)
	}
	return strings.TrimSpace(strconv.Itoa(resp.StatusCode) + " " + string(bytes.TrimSpace(b)))
}

// noRedirects is a copy of c that returns a redirect as the answer: the
// comparison is of what each server says, not of where it sends.
func noRedirects(c *http.Client) *http.Client {
	out := *c
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// startNativePairs starts, for every setup, Chroma 0.6.3 with the setup's
// variables (all at once: the Python server takes seconds to start) and a
// gateway whose from_env reads the same variables, in front of upstream.
func startNativePairs(t *testing.T, setups []nativeSetup, upstream string) (natives []string, gateways []*gateway) {
	type started struct {
		proc *process
		url  string
		err  error
	}
	done := make([]chan started, len(setups))
	for i, s := range setups {
		done[i] = make(chan started, 1)
		dir := t.TempDir()
		go func() {
			p, url, err := startNative06(dir, s.env)
			done[i] <- started{p, url, err}
		}()
	}
	for _, s := range setups {
		dir := t.TempDir()
		port, err := freePort()
		require.NoError(t, err)
		storage := filepath.Join(dir, "caddy-storage")
		config := filepath.Join(dir, "Caddyfile")
		// The failure limiter (Chroma 0.6 has none) would answer 429 to
		// the corpus's many wrong credentials from one address.
		directive := "chroma_auth {\n\t\tfrom_env\n\t\tfailures_per_minute off\n\t}"
		require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, gatewayCaddyfile, storage, "", port, directive, upstream), 0o600))
		gateways = append(gateways, runGateway(t, gatewayRun{dir: dir, config: config, port: port, storage: storage, cwd: dir, env: s.env}))
	}
	var firstErr error
	for i := range setups {
		st := <-done[i]
		if st.err != nil {
			firstErr = st.err
			continue
		}
		t.Cleanup(st.proc.stop)
		natives = append(natives, st.url)
	}
	require.NoError(t, firstErr)
	return natives, gateways
}

// TestNativeAuthSideBySide (issue 19): Chroma 0.6.3 with its native auth
// and the gateway's from_env in front of Chroma 1.5.9 get the same
// CHROMA_* variables and the same corpus of requests; every difference in
// status or error body must be listed, with its reason, in
// testdata/native_differences.tsv, and every listed row must still occur.
func TestNativeAuthSideBySide(t *testing.T) {
	listed := readNativeDifferences(t)
	setups := nativeSetups(t, t.TempDir())
	// An upstream of its own (the chromadb 1.5.9 wheel's server, which
	// calls itself 1.0.0 on /api/v2/version): the corpus creates and
	// resets, and both sides start from empty data.
	upstream, err := startChroma("chroma-1.5.9-side", filepath.Join(suite.e2eDir, ".venv-1.5", "bin", "chroma"), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(upstream.proc.stop)
	startAt := time.Now()
	natives, gateways := startNativePairs(t, setups, upstream.addr)
	t.Logf("servers up in %v", time.Since(startAt).Round(time.Millisecond))

	nc := noRedirects(plainHTTPClient())
	total, same := 0, 0
	var unlisted []string
	for i, s := range setups {
		gc, err := trustingHTTPClient(gateways[i].caRoot)
		require.NoError(t, err)
		gc = noRedirects(gc)
		for _, c := range s.creds {
			for ri, r := range nativeRoutes {
				own := fmt.Sprintf("%s-%s-%d", s.name, c.label, ri)
				a := nativeAnswer(t, nc, natives[i], r, own, c)
				b := nativeAnswer(t, gc, gateways[i].url, r, own, c)
				total++
				if a == b {
					same++
					continue
				}
				key := [5]string{s.name, c.label, r.method + " " + r.path, a, b}
				found := false
				for _, d := range listed {
					if d.explains(key) {
						d.matched++
						found = true
						break
					}
				}
				if !found {
					unlisted = append(unlisted, strings.Join(key[:], "\t"))
				}
			}
		}
	}
	t.Logf("%d requests to each side, %d answered alike", total, same)
	assert.GreaterOrEqual(t, total, 400, "requests in the corpus (the READMEs say over 400; the issue asks at least 200)")
	assert.Empty(t, unlisted, "differences %s does not list (setup, credential, request, 0.6.3, gateway):\n%s",
		nativeDifferencesFile, strings.Join(unlisted, "\n"))
	for _, d := range listed {
		assert.Positive(t, d.matched, "%s:%d is listed but no longer occurs: drop it", nativeDifferencesFile, d.line)
	}
}
