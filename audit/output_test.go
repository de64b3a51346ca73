package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/logging" // the file writer

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// parseAudit parses an `audit …` line (and block) as the chroma_auth
// block's parser hands it over.
func parseAudit(t *testing.T, input string) (*Config, error) {
	t.Helper()
	d := caddyfile.NewTestDispenser(input)
	d.Next()
	return Parse(d, d.RemainingArgs())
}

// TestParseOutput: `output` takes a Caddy log writer and its block as
// Caddy's `log` does, into the JSON Caddy's own logs use.
func TestParseOutput(t *testing.T) {
	for input, want := range map[string]string{
		"audit {\n output file /var/log/a.log {\n roll_size 1MiB\n roll_keep 3\n }\n public\n}": `{"filename":"/var/log/a.log","output":"file","roll_keep":3,"roll_size_mb":1}`,
		"audit {\n output stderr\n}":  `{"output":"stderr"}`,
		"audit {\n output discard\n}": `{"output":"discard"}`,
	} {
		c, err := parseAudit(t, input)
		require.NoError(t, err, input)
		require.JSONEq(t, want, string(c.WriterRaw), input)
	}
	c, err := parseAudit(t, "audit")
	require.NoError(t, err)
	require.Nil(t, c.WriterRaw, "no output: Caddy's logging")

	for input, want := range map[string]string{
		"audit {\n output\n}":                             "output needs a log writer",
		"audit {\n output nosuch\n}":                      "caddy.logging.writers.nosuch",
		"audit {\n output stdout extra\n}":                "wrong argument count",
		"audit {\n output file\n}":                        "wrong argument count",
		"audit {\n output stderr\n output stdout\n}":      "output given twice",
		"audit {\n output file /a {\n roll_size x\n }\n}": "parsing size",
		"audit {\n outputs stderr\n}":                     `unknown option "outputs" (want public or output)`,
	} {
		_, err := parseAudit(t, input)
		require.ErrorContains(t, err, want, input)
	}
}

func testContext(t *testing.T) caddy.Context {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return ctx
}

func fileConfig(path string) *Config {
	return &Config{WriterRaw: json.RawMessage(fmt.Sprintf(`{"output":"file","filename":%q}`, path))}
}

// testWrite writes one allowed line whose request id is id.
func testWrite(w Writer, id string) {
	r := httptest.NewRequest("GET", "/api/v2/tenants/t/databases/d/collections/docs/count", nil)
	rt := authz.ClassifyPath(r.Method, r.URL)
	d := authz.Decision{Verdict: authz.VerdictAllowed, Status: 200, Identity: &providers.Identity{User: "alice", Provider: "token"}}
	w.Write(r, &d, &rt, Line{Decision: DecisionAllowed, Status: 200, ClientIP: "192.0.2.7", RequestID: id})
}

// TestOutputSharedAcrossReloadAndClosedByTheLast: a reload's handler
// opens the same file as the one it replaces and shares its writer;
// lines go on reaching the file when the old one lets go, and the last
// to let go closes it: a later line is not written, and the error (no
// line, no secret) is told to the handler's log.
func TestOutputSharedAcrossReloadAndClosedByTheLast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	core, logs := observer.New(zap.ErrorLevel)
	old, err := OpenOutput(testContext(t), fileConfig(path), zap.New(core))
	require.NoError(t, err)
	reloaded, err := OpenOutput(testContext(t), fileConfig(path), zap.New(core))
	require.NoError(t, err)
	require.Equal(t, old.w, reloaded.w, "one writer for one file")

	testWrite(Writer{Out: old}, "one")
	require.NoError(t, old.Close())
	testWrite(Writer{Out: reloaded}, "two")
	require.NoError(t, reloaded.Close())
	testWrite(Writer{Out: reloaded}, "three")

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Len(t, lines, 2, string(raw))
	require.Contains(t, lines[0], `"request_id":"one"`)
	require.Contains(t, lines[1], `"request_id":"two"`)
	errs := logs.FilterMessage("audit line not written").All()
	require.Len(t, errs, 1)
	require.NotContains(t, fmt.Sprint(errs[0].Context), "alice", "the line is not in the error")

	_, err = OpenOutput(testContext(t), &Config{WriterRaw: json.RawMessage(`{"output":"nosuch"}`)}, nil)
	require.ErrorContains(t, err, "chroma_auth: audit: output")
	_, err = OpenOutput(testContext(t), fileConfig(filepath.Join(path, "a.log")), nil) // under a file
	require.ErrorContains(t, err, "chroma_auth: audit: output")
	o, err := OpenOutput(testContext(t), &Config{}, nil)
	require.NoError(t, err)
	require.Nil(t, o, "no output configured")
}

// failingWriter refuses every line.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestOutputWriteErrorIsTold: a writer's error reaches the error log once
// per line, naming the error.
func TestOutputWriteErrorIsTold(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	w := Writer{Out: NewOutput(failingWriter{}, time.Now, zap.New(core))}
	testWrite(w, "a")
	testWrite(w, "b")
	all := logs.FilterMessage("audit line not written").All()
	require.Len(t, all, 2)
	require.Equal(t, "disk full", all[0].ContextMap()["error"])
}

// TestOutputConcurrentLines: a cold burst of goroutines writing to one
// file output leaves every line whole, once, one per write (-race: the
// pooled buffers are not shared).
func TestOutputConcurrentLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	out, err := OpenOutput(testContext(t), fileConfig(path), nil)
	require.NoError(t, err)
	const workers, each = 16, 50
	var start, done sync.WaitGroup
	start.Add(1)
	for g := range workers {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			for i := range each {
				testWrite(Writer{Out: out}, fmt.Sprintf("%d-%d-%s", g, i, strings.Repeat("x", g*i%300)))
			}
		}()
	}
	start.Done()
	done.Wait()
	require.NoError(t, out.Close())
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		id := m["request_id"].(string)
		require.False(t, seen[id], "a line twice: %s", id)
		seen[id] = true
		require.Equal(t, "alice", m["user"])
	}
	require.Len(t, seen, workers*each)
}

// TestOutputKeepsNoHugeBuffer: the buffer of a line over 64 KiB (a
// request naming many collections) is not kept for the next line, so one
// such line does not hold its memory for good. (The real pool may drop
// any buffer; it never hands this one back.)
func TestOutputKeepsNoHugeBuffer(t *testing.T) {
	w := Writer{Out: NewOutput(io.Discard, time.Now, nil)}
	r := httptest.NewRequest("GET", "/api/v2/tenants/t/databases/d/collections/docs/count", nil)
	rt := authz.ClassifyPath(r.Method, r.URL)
	d := authz.Decision{Verdict: authz.VerdictRefused, Status: 403}
	w.Write(r, &d, &rt, Line{Decision: DecisionForbidden, Status: 403, Reason: strings.Repeat("r", 100<<10), RequestID: "id"})
	p := linePool.Get().(*[]byte)
	require.LessOrEqual(t, cap(*p), 64<<10, "a huge line's buffer went back to the pool")
}
