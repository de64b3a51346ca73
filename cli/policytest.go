package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// ErrCasesFailed is test's error when a case does not hold.
var ErrCasesFailed = errors.New("test: some cases do not hold")

// Case is one policy test: a caller, a request, and what the gateway
// should decide.
type Case struct {
	Name    string `yaml:"name"`
	As      As     `yaml:"as"`
	Request struct {
		Method string    `yaml:"method"`
		Path   string    `yaml:"path"`
		Body   yaml.Node `yaml:"body"`
	} `yaml:"request"`
	// Expect is allow, deny (401 or 403) or an HTTP status.
	Expect string `yaml:"expect"`

	line int
	body []byte
}

// TestOptions are the inputs of RunPolicyTest.
type TestOptions struct {
	Config, Adapter, Site, Upstream string
	Args                            []string // the cases file
	Open                            OpenExplainer
}

// RunPolicyTest runs `caddy chroma-auth test`: every case of the cases
// file against the config's decision. Exit 0 when all hold, 1 when one
// does not (each named with the decision it got), 2 on a usage, config or
// cases file error.
func RunPolicyTest(rw IO, o TestOptions) (int, error) {
	if len(o.Args) != 1 {
		return ExitUsage, errors.New("test: want one cases file")
	}
	cases, err := LoadCases(o.Args[0])
	if err != nil {
		return ExitUsage, fmt.Errorf("test: %w", err)
	}
	ex, where, err := openSite(o.Config, o.Adapter, o.Site, o.Upstream, o.Open)
	if err != nil {
		return ExitUsage, fmt.Errorf("test: %w", err)
	}
	defer ex.Close()
	fmt.Fprintf(rw.Stdout, "handler: %s\n", where)
	failed := 0
	for _, c := range cases {
		x, err := ex.Explain(context.Background(), c.As, Request{Method: c.Request.Method, Path: c.Request.Path, Body: c.body})
		if err != nil {
			return ExitUsage, fmt.Errorf("test: %s:%d: case %q: %w", o.Args[0], c.line, c.Name, err)
		}
		if c.holds(&x) {
			fmt.Fprintf(rw.Stdout, "ok    %s\n", c.Name)
			continue
		}
		failed++
		fmt.Fprintf(rw.Stdout, "FAIL  %s (%s:%d): expected %s, got %s (%d)\n", c.Name, o.Args[0], c.line, c.Expect, x.Decision.Verdict, x.Decision.Status)
		var b bytes.Buffer
		x.Write(&b)
		for _, l := range strings.SplitAfter(strings.TrimSuffix(b.String(), "\n"), "\n") {
			fmt.Fprintf(rw.Stdout, "      %s", l)
		}
		fmt.Fprintln(rw.Stdout)
	}
	if failed > 0 {
		fmt.Fprintf(rw.Stdout, "%d of %d case(s) failed\n", failed, len(cases))
		return ExitFailed, ErrCasesFailed
	}
	fmt.Fprintf(rw.Stdout, "OK: %d case(s)\n", len(cases))
	return ExitOK, nil
}

// holds reports whether the decision is what the case expects.
func (c *Case) holds(x *Explanation) bool {
	switch c.Expect {
	case "allow":
		return x.Allowed()
	case "deny":
		v := x.Decision.Verdict
		return v == authz.VerdictRefused || v == authz.VerdictUnauthenticated
	}
	status, _ := strconv.Atoi(c.Expect)
	return x.Decision.Status == status
}

// LoadCases reads a cases file: `cases:` a list of {name, as: {user |
// token | key | jwt}, request: {method, path, body}, expect: allow | deny
// | <status>}. A body that is not a string is sent as its JSON; {env.VAR}
// in a credential is the variable's value. Errors name the file and line.
func LoadCases(path string) ([]Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Cases []yaml.Node `yaml:"cases"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases (want `cases:` a list of name, as, request, expect)", path)
	}
	names := make(map[string]int)
	out := make([]Case, 0, len(doc.Cases))
	for i := range doc.Cases {
		n := &doc.Cases[i]
		c, err := parseCase(n)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: case %d: %w", path, n.Line, i+1, err)
		}
		if first, dup := names[c.Name]; dup {
			return nil, fmt.Errorf("%s:%d: case %q: the name is taken at line %d", path, n.Line, c.Name, first)
		}
		names[c.Name] = n.Line
		out = append(out, c)
	}
	return out, nil
}

func parseCase(n *yaml.Node) (Case, error) {
	var c Case
	// yaml.Node.Decode does not check for unknown fields: re-encode and
	// decode strictly.
	raw, err := yaml.Marshal(n)
	if err != nil {
		return c, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, err
	}
	c.line = n.Line
	switch {
	case c.Name == "":
		return c, errors.New("no name")
	case c.Request.Method == "" || c.Request.Path == "":
		return c, fmt.Errorf("%q: request needs a method and a path", c.Name)
	}
	c.Request.Method = strings.ToUpper(c.Request.Method)
	if err := c.As.check(); err != nil {
		return c, fmt.Errorf("%q: as: %w", c.Name, err)
	}
	repl := caddy.NewReplacer()
	for _, v := range []*string{&c.As.Token, &c.As.Key, &c.As.JWT} {
		if *v == "" {
			continue
		}
		if *v = repl.ReplaceAll(*v, ""); *v == "" {
			return c, fmt.Errorf("%q: as: the credential is empty once {env.*} is replaced (an unset variable?)", c.Name)
		}
	}
	if c.body, err = caseBody(&c.Request.Body); err != nil {
		return c, fmt.Errorf("%q: request body: %w", c.Name, err)
	}
	switch c.Expect {
	case "allow", "deny":
	default:
		if s, err := strconv.Atoi(c.Expect); err != nil || s < 100 || s > 599 {
			return c, fmt.Errorf("%q: expect %q: want allow, deny or an HTTP status", c.Name, c.Expect)
		}
	}
	return c, nil
}

// caseBody is a request body: a string as it is, anything else as JSON.
func caseBody(n *yaml.Node) ([]byte, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return []byte(n.Value), nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
