package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rw(stdin string) (IO, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}, &out, &errb
}

func TestRunHtpasswd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	io, out, _ := rw("first-pw\n")
	code, err := RunHtpasswd(io, HtpasswdArgs{Op: "add", File: path, User: "admin", Cost: cost})
	require.NoError(t, err)
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out.String(), `added user "admin"`)
	assert.NotContains(t, out.String(), "first-pw")
	assert.NotContains(t, out.String(), "$2a$")
	assertPassword(t, loadUsers(t, path)["admin"], "first-pw")

	io, _, _ = rw("again\n")
	code, err = RunHtpasswd(io, HtpasswdArgs{Op: "add", File: path, User: "admin", Cost: cost})
	assert.ErrorIs(t, err, ErrUserExists)
	assert.Equal(t, ExitFailed, code)

	io, out, _ = rw("second-pw\n")
	code, err = RunHtpasswd(io, HtpasswdArgs{Op: "set", File: path, User: "admin", Cost: cost})
	require.NoError(t, err)
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out.String(), "changed the password")
	assertPassword(t, loadUsers(t, path)["admin"], "second-pw")

	io, out, _ = rw("second-pw\n")
	code, err = RunHtpasswd(io, HtpasswdArgs{Op: "verify", File: path, User: "admin"})
	require.NoError(t, err)
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out.String(), "correct")

	io, _, _ = rw("first-pw\n")
	code, err = RunHtpasswd(io, HtpasswdArgs{Op: "verify", File: path, User: "admin"})
	assert.ErrorIs(t, err, ErrWrongPassword)
	assert.Equal(t, ExitFailed, code, "a wrong password exits non-zero")

	io, _, _ = rw("")
	code, err = RunHtpasswd(io, HtpasswdArgs{Op: "remove", File: path, User: "ghost"})
	assert.ErrorIs(t, err, ErrNoSuchUser)
	assert.Equal(t, ExitFailed, code)

	io, out, errb := rw("")
	code, err = RunHtpasswd(io, HtpasswdArgs{Op: "remove", File: path, User: "admin"})
	require.NoError(t, err)
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out.String(), "removed")
	assert.Contains(t, errb.String(), "no users left")
}

func TestRunHtpasswdPasswordNeverFromArgvByDefault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	io, _, _ := rw("from-stdin\n")
	code, err := RunHtpasswd(io, HtpasswdArgs{Op: "add", File: path, User: "u", Cost: cost, Args: []string{"from-argv"}})
	require.Error(t, err)
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, err.Error(), "--password-from-argv")
	assert.NotContains(t, err.Error(), "from-argv\"")
	_, statErr := os.Stat(path)
	assert.True(t, os.IsNotExist(statErr), "nothing written")

	io, _, _ = rw("")
	code, err = RunHtpasswd(io, HtpasswdArgs{Op: "add", File: path, User: "u", Cost: cost, PasswordFromArgv: true, Args: []string{"from-argv"}})
	require.NoError(t, err)
	assert.Equal(t, ExitOK, code)
	assertPassword(t, loadUsers(t, path)["u"], "from-argv")
}

func TestRunHtpasswdBadArgs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	for _, a := range []HtpasswdArgs{
		{Op: "frobnicate", File: path, User: "u"},
		{Op: "add", User: "u"},
		{Op: "add", File: path},
		{Op: "add", File: path, User: "a:b"},
		{Op: "add", File: path, User: "u", Cost: 99},
		{Op: "remove", File: path, User: "u", Args: []string{"pw"}},
	} {
		io, _, _ := rw("pw\n")
		code, err := RunHtpasswd(io, a)
		assert.Error(t, err, "%+v", a)
		assert.Equal(t, ExitFailed, code)
	}
	_, statErr := os.Stat(path)
	assert.True(t, os.IsNotExist(statErr))
}

func TestRunToken(t *testing.T) {
	io, out, _ := rw("")
	code, err := RunToken(io, 0)
	require.NoError(t, err)
	assert.Equal(t, ExitOK, code)
	assert.Regexp(t, `^[A-Za-z0-9_-]{43}\n$`, out.String())
	io, out, _ = rw("")
	_, err = RunToken(io, 64)
	require.NoError(t, err)
	assert.Len(t, strings.TrimSpace(out.String()), 86)
	io, _, _ = rw("")
	code, err = RunToken(io, 1)
	assert.Error(t, err)
	assert.Equal(t, ExitFailed, code)
}

// A JSON config, as `caddy adapt` makes from a Caddyfile: one site with
// chroma_auth in a subroute, an unguarded proxy on another site, and a
// chroma_auth in a named route.
const testConfig = `{
  "apps": {"http": {"servers": {
    "srv0": {
      "listen": [":443"],
      "routes": [
        {"match": [{"host": ["chroma.example.com"]}], "terminal": true, "handle": [
          {"handler": "subroute", "routes": [
            {"handle": [{"handler": "chroma_auth", "htpasswd_file": "/etc/h"}]},
            {"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "localhost:8000"}]}]}
          ]}
        ]},
        {"match": [{"host": ["open.example.com"]}, {"path": ["/x/*"]}], "handle": [
          {"handler": "reverse_proxy", "upstreams": [{"dial": "localhost:8001"}]}
        ]}
      ],
      "named_routes": {"guarded": {"handle": [{"handler": "chroma_auth", "tokens": ["x"]}]}}
    }
  }}}
}`

func TestCheckFindsHandlers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caddy.json")
	require.NoError(t, os.WriteFile(path, []byte(testConfig), 0o600))
	var seen []map[string]any
	inspect := func(raw json.RawMessage) HandlerReport {
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		seen = append(seen, m)
		r := HandlerReport{Public: []string{"/api/v2/heartbeat"}, TokenHeader: "Authorization"}
		if m["htpasswd_file"] != nil {
			r.Basic, r.Users = true, 2
		} else {
			r.Errors = append(r.Errors, "token #1: too short")
		}
		return r
	}
	io, out, _ := rw("")
	code, err := RunCheck(io, CheckOptions{Config: path, inspect: inspect})
	require.Error(t, err)
	assert.Equal(t, ExitFailed, code)
	require.Len(t, seen, 2)
	assert.Equal(t, "/etc/h", seen[0]["htpasswd_file"])
	assert.Equal(t, []any{"x"}, seen[1]["tokens"])
	report := out.String()
	assert.Contains(t, report, "chroma_auth #1: server srv0 (:443) › route host(chroma.example.com) › subroute › route (all requests)")
	assert.Contains(t, report, "chroma_auth #2: server srv0 (:443) › named route guarded")
	assert.Contains(t, report, "basic: 2 user(s)")
	assert.NotContains(t, report, "tokens: 0", "no token line for a basic-only handler")
	assert.Contains(t, report, "public (GET and HEAD without credentials): /api/v2/heartbeat")
	assert.Contains(t, report, "ERROR: token #1: too short")
	assert.Contains(t, report, "WARNING: reverse_proxy with no chroma_auth before it: server srv0 (:443) › route host(open.example.com) | path(/x/*), handler #1")
	assert.NotContains(t, report, "localhost:8000 ", "the guarded proxy is not reported")
	assert.Equal(t, 1, strings.Count(report, "reverse_proxy with no chroma_auth"))
	assert.Contains(t, report, "1 error(s)")
}

func TestCheckOK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caddy.json")
	require.NoError(t, os.WriteFile(path, []byte(testConfig), 0o600))
	io, out, _ := rw("")
	code, err := RunCheck(io, CheckOptions{Config: path, inspect: func(json.RawMessage) HandlerReport {
		return HandlerReport{Tokens: 3, TokenHeader: "X-Chroma-Token"}
	}})
	require.NoError(t, err)
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, out.String(), "tokens: 3, header X-Chroma-Token")
	assert.Contains(t, out.String(), "public: none")
	assert.Contains(t, out.String(), "OK: 2 chroma_auth handler(s)")
}

func TestCheckConfigErrors(t *testing.T) {
	dir := t.TempDir()
	none := func(json.RawMessage) HandlerReport { return HandlerReport{} }
	io, _, _ := rw("")
	_, err := RunCheck(io, CheckOptions{Config: filepath.Join(dir, "missing.json"), inspect: none})
	assert.Error(t, err)

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o600))
	_, err = RunCheck(io, CheckOptions{Config: bad, inspect: none})
	assert.ErrorContains(t, err, "--adapter")

	_, err = RunCheck(io, CheckOptions{Config: bad, Adapter: "no-such-adapter", inspect: none})
	assert.ErrorContains(t, err, "no-such-adapter")

	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte(`{"apps":{"http":{"servers":{"s":{"routes":[]}}}}}`), 0o600))
	var out bytes.Buffer
	code, err := RunCheck(IO{Stdout: &out}, CheckOptions{Config: empty, inspect: none})
	assert.Error(t, err)
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, out.String(), "no chroma_auth handler")
}

func TestFileModeWarnings(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "priv")
	world := filepath.Join(dir, "world")
	require.NoError(t, os.WriteFile(priv, nil, 0o600))
	require.NoError(t, os.WriteFile(world, nil, 0o600))
	require.NoError(t, os.Chmod(world, 0o644))
	w := FileModeWarnings([]string{priv, world, filepath.Join(dir, "missing")})
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "world is readable by every user (mode 0644)")
}
