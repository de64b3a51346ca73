package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// HandlerReport is what check learns about one chroma_auth handler. It
// holds counts, names and paths, never a secret.
type HandlerReport struct {
	Where       string   // where the handler is in the config
	Public      []string // paths GET and HEAD reach without credentials
	FromEnv     bool     // settings read from Chroma's environment variables
	Basic       bool
	Users       int    // basic users loaded
	Tokens      int    // tokens loaded
	Keys        int    // API keys loaded
	TokenHeader string // the header tokens are read from
	Files       []string
	Authz       string // the RBAC file, "" when authorization is off
	Roles       int
	Errors      []string
	Warnings    []string
}

// CheckOptions are the inputs of Check.
type CheckOptions struct {
	Config  string // config file
	Adapter string // config adapter; "" picks one as `caddy run` does
	// inspect replaces Inspect (tests)
	inspect func(raw json.RawMessage) HandlerReport
	Out     io.Writer
}

// CheckResult sums up a check.
type CheckResult struct {
	Handlers []HandlerReport
	Warnings []string // about the config as a whole
	Errors   int      // problems that stop the config from loading
}

// Check adapts the config, finds every chroma_auth handler in it (in every
// server's routes, subroutes, error routes and named routes), inspects each
// and writes a report to Out. The error is for a config that cannot be read
// or adapted; problems in handlers are counted in the result.
func Check(opts CheckOptions) (*CheckResult, error) {
	res := &CheckResult{}
	cfg, warns, err := adaptConfig(opts.Config, opts.Adapter)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, warns...)
	found, unguarded := findHandlers(cfg)
	for _, u := range unguarded {
		res.Warnings = append(res.Warnings, "reverse_proxy with no chroma_auth before it: "+u)
	}
	if len(found) == 0 {
		res.Errors++
		res.Warnings = append(res.Warnings, "no chroma_auth handler in the config")
	}
	inspect := opts.inspect
	if inspect == nil {
		inspect = Inspect
	}
	for _, f := range found {
		r := inspect(f.raw)
		r.Where = f.where
		r.Warnings = append(r.Warnings, CredentialLogWarnings(cfg, f.server, r)...)
		res.Errors += len(r.Errors)
		res.Handlers = append(res.Handlers, r)
	}
	if opts.Out != nil {
		res.write(opts.Out)
	}
	return res, nil
}

func (res *CheckResult) write(w io.Writer) {
	for i, r := range res.Handlers {
		fmt.Fprintf(w, "chroma_auth #%d: %s\n", i+1, r.Where)
		if r.FromEnv {
			fmt.Fprintf(w, "  settings: from Chroma's environment variables (from_env)\n")
		}
		if len(r.Public) == 0 {
			fmt.Fprintf(w, "  public: none (every route needs credentials)\n")
		} else {
			fmt.Fprintf(w, "  public (GET and HEAD without credentials): %s\n", strings.Join(r.Public, " "))
		}
		if len(r.Errors) == 0 {
			if r.Basic {
				fmt.Fprintf(w, "  basic: %d user(s)\n", r.Users)
			}
			if r.Tokens > 0 || !r.Basic {
				fmt.Fprintf(w, "  tokens: %d, header %s\n", r.Tokens, r.TokenHeader)
			}
			if r.Keys > 0 {
				fmt.Fprintf(w, "  api keys: %d\n", r.Keys)
			}
			if r.Authz != "" {
				fmt.Fprintf(w, "  authz: RBAC from %s, %d role(s)\n", r.Authz, r.Roles)
			} else {
				fmt.Fprintf(w, "  authz: off (every authenticated caller may do anything its tenant and databases allow)\n")
			}
		}
		for _, f := range r.Files {
			fmt.Fprintf(w, "  file: %s\n", f)
		}
		for _, m := range r.Warnings {
			fmt.Fprintf(w, "  WARNING: %s\n", m)
		}
		for _, m := range r.Errors {
			fmt.Fprintf(w, "  ERROR: %s\n", m)
		}
		if len(r.Errors) == 0 {
			fmt.Fprintf(w, "  OK\n")
		}
	}
	for _, m := range res.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", m)
	}
	if res.Errors > 0 {
		fmt.Fprintf(w, "%d error(s): the gateway would not start with this config\n", res.Errors)
	} else {
		fmt.Fprintf(w, "OK: %d chroma_auth handler(s)\n", len(res.Handlers))
	}
}

// adaptConfig reads a config file and adapts it to JSON, picking the
// adapter as `caddy run` does when adapter is "".
func adaptConfig(config, adapter string) (map[string]any, []string, error) {
	if config == "" {
		return nil, nil, fmt.Errorf("--config is required")
	}
	body, err := os.ReadFile(config)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config: %w", err)
	}
	if adapter == "" {
		base := strings.ToLower(filepath.Base(config))
		if strings.HasPrefix(base, "caddyfile") || filepath.Ext(base) == ".caddyfile" {
			adapter = "caddyfile"
		}
	}
	var warnings []string
	if adapter != "" {
		a := caddyconfig.GetAdapter(adapter)
		if a == nil {
			return nil, nil, fmt.Errorf("unrecognized config adapter %q", adapter)
		}
		var warns []caddyconfig.Warning
		body, warns, err = a.Adapt(body, map[string]any{"filename": config})
		if err != nil {
			return nil, nil, fmt.Errorf("adapting config with %s: %w", adapter, err)
		}
		for _, w := range warns {
			warnings = append(warnings, w.String())
		}
	}
	var cfg map[string]any
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, nil, fmt.Errorf("config is not JSON (use --adapter for another format): %w", err)
	}
	return cfg, warnings, nil
}

// Handlers adapts a config and returns the JSON of every chroma_auth
// handler in it, in the order check reports them.
func Handlers(config, adapter string) ([]json.RawMessage, error) {
	cfg, _, err := adaptConfig(config, adapter)
	if err != nil {
		return nil, err
	}
	found, _ := findHandlers(cfg)
	out := make([]json.RawMessage, len(found))
	for i, f := range found {
		out[i] = f.raw
	}
	return out, nil
}

type foundHandler struct {
	where  string
	raw    json.RawMessage
	server map[string]any // the server the handler is in
	hosts  []string       // the host matchers of its route and the routes around it
}

// findHandlers walks the http app's servers in name order. A reverse_proxy
// reached with no chroma_auth earlier in its route list or an enclosing one
// is reported as unguarded: whatever it proxies is open. (This is a
// reading of the JSON, not of the matchers: a chroma_auth whose matcher does
// not match a request guards nothing for it.)
func findHandlers(cfg map[string]any) (found []foundHandler, unguarded []string) {
	servers, _ := dig(cfg, "apps", "http", "servers").(map[string]any)
	for _, name := range sortedKeys(servers) {
		srv, _ := servers[name].(map[string]any)
		where := "server " + name
		if listen, ok := srv["listen"].([]any); ok && len(listen) > 0 {
			where += " (" + joinAny(listen, " ") + ")"
		}
		w := &walker{}
		w.routes(srv["routes"], where, false)
		w.routes(dig(srv, "errors", "routes"), where+" › errors", false)
		if named, ok := srv["named_routes"].(map[string]any); ok {
			for _, n := range sortedKeys(named) {
				w.route(named[n], where+" › named route "+n, false)
			}
		}
		for i := range w.found {
			w.found[i].server = srv
		}
		found = append(found, w.found...)
		unguarded = append(unguarded, w.unguarded...)
	}
	return found, unguarded
}

type walker struct {
	found     []foundHandler
	unguarded []string
	hosts     []string // the host matchers of the routes being walked
}

// routes walks a route list; a chroma_auth in an earlier route guards the
// later ones.
func (w *walker) routes(v any, where string, guarded bool) bool {
	list, _ := v.([]any)
	for _, r := range list {
		if w.route(r, where, guarded) {
			guarded = true
		}
	}
	return guarded
}

// route walks one route's handlers and reports whether it has a
// chroma_auth of its own (not inside a subroute).
func (w *walker) route(v any, where string, guarded bool) bool {
	r, _ := v.(map[string]any)
	if r == nil {
		return false
	}
	where += " › route " + describeMatch(r["match"])
	outer := len(w.hosts)
	w.hosts = append(w.hosts, matchHosts(r["match"])...)
	defer func() { w.hosts = w.hosts[:outer] }()
	own := false
	handlers, _ := r["handle"].([]any)
	for i, hv := range handlers {
		h, _ := hv.(map[string]any)
		name, _ := h["handler"].(string)
		switch name {
		case "chroma_auth":
			raw, _ := json.Marshal(h)
			w.found = append(w.found, foundHandler{where: where, raw: raw, hosts: append([]string(nil), w.hosts...)})
			guarded, own = true, true
		case "reverse_proxy":
			if !guarded {
				w.unguarded = append(w.unguarded, fmt.Sprintf("%s, handler #%d", where, i+1))
			}
		}
		// subroute's routes, reverse_proxy's handle_response routes and any
		// other handler that nests routes
		if sub, ok := h["routes"]; ok {
			w.routes(sub, where+" › "+name, guarded)
		}
		if hr, ok := h["handle_response"].([]any); ok {
			for _, x := range hr {
				xm, _ := x.(map[string]any)
				w.routes(xm["routes"], where+" › handle_response", guarded)
			}
		}
	}
	return own
}

// describeMatch names a route by its matchers: host(...) path(...) and the
// names of the others; "(all requests)" when it has none.
func describeMatch(v any) string {
	sets, _ := v.([]any)
	var alts []string
	for _, s := range sets {
		m, _ := s.(map[string]any)
		var parts []string
		for _, k := range sortedKeys(m) {
			switch val := m[k].(type) {
			case []any:
				parts = append(parts, k+"("+joinAny(val, ",")+")")
			default:
				parts = append(parts, k)
			}
		}
		alts = append(alts, strings.Join(parts, " "))
	}
	if len(alts) == 0 {
		return "(all requests)"
	}
	return strings.Join(alts, " | ")
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinAny(list []any, sep string) string {
	s := make([]string, 0, len(list))
	for _, x := range list {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, sep)
}

// FileModeWarnings warns about credential files others can read or write.
func FileModeWarnings(files []string) []string {
	var out []string
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			continue // a missing file is the loader's error
		}
		switch perm := st.Mode().Perm(); {
		case perm&0o002 != 0:
			out = append(out, fmt.Sprintf("%s is writable by every user (mode %04o): chmod 600", f, perm))
		case perm&0o004 != 0:
			out = append(out, fmt.Sprintf("%s is readable by every user (mode %04o): chmod 600 (or 640 for a group)", f, perm))
		}
	}
	return out
}
