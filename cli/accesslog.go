package cli

import (
	"fmt"
	"sort"
	"strings"
)

// Caddy logs a request's headers as they arrived: the access log, and the
// error log of any request a handler fails (a 502 while Chroma is down),
// use a copy made before any handler runs, so chroma_auth cannot remove a
// credential from them. Caddy hides Authorization (unless log_credentials
// is on), never X-Chroma-Token. These are the lines of a log's
// `format filter` block (Caddyfile) that fix it:
//
//	log {
//		format filter {
//			request>headers>X-Chroma-Token delete
//		}
//	}
const (
	ChromaTokenFilter   = "request>headers>X-Chroma-Token delete"
	AuthorizationFilter = "request>headers>Authorization delete"
)

// FilterHint is how a warning names the fix for a log: filter is one of
// the lines above.
func FilterHint(filter string) string {
	return "a `format filter` block with the line `" + filter + "`"
}

// filterFor is the fix to name for header.
func filterFor(header string) string {
	if header == "Authorization" {
		return AuthorizationFilter
	}
	return ChromaTokenFilter
}

// exposedHeaders are the credential headers of handler r that Caddy's logs
// would write in clear: X-Chroma-Token when tokens are read from it, and
// Authorization when the server logs credentials and Basic or Bearer
// credentials are accepted.
func exposedHeaders(r HandlerReport, logCredentials bool) []string {
	var out []string
	if r.TokenHeader == "X-Chroma-Token" && r.Tokens > 0 {
		out = append(out, "X-Chroma-Token")
	}
	if logCredentials && (r.Basic || (r.Tokens > 0 && r.TokenHeader == "Authorization")) {
		out = append(out, "Authorization")
	}
	return out
}

// CredentialLogWarnings reads the config's logs the way Caddy routes log
// entries (logger names, include and exclude) and warns about each log
// that would write a credential header of handler r, on server srv, in
// clear: one that takes the server's access log or error log and has no
// `delete` or `replace` filter for the header. Caddy's own default log,
// when the config does not define one, takes everything, unfiltered.
func CredentialLogWarnings(cfg, srv map[string]any, r HandlerReport) []string {
	srvLogs, accessOn := srv["logs"].(map[string]any)
	logCreds, _ := srvLogs["should_log_credentials"].(bool)
	headers := exposedHeaders(r, logCreds)
	// Any client may send X-Chroma-Token, whatever token_header says, and
	// an access log copies it: the access log needs the filter anyway.
	accessOnly := accessOn && !contains(headers, "X-Chroma-Token")
	if accessOnly {
		headers = append(headers, "X-Chroma-Token")
	}
	if len(headers) == 0 {
		return nil
	}
	kinds := map[string][]string{"error log": loggerNames("http.log.error", srvLogs, accessOn)}
	if accessOn {
		kinds["access log"] = loggerNames("http.log.access", srvLogs, true)
	}
	logs, _ := dig(cfg, "logging", "logs").(map[string]any)
	all := map[string]map[string]any{"default": {}} // Caddy's default log, unless the config sets one
	for name, v := range logs {
		all[name], _ = v.(map[string]any)
	}
	var out []string
	for _, header := range headers {
		for _, name := range sortedLogNames(all) {
			cl := all[name]
			if discarded(cl) || filtered(cl, header) {
				continue
			}
			var what []string
			for _, kind := range []string{"access log", "error log"} {
				if header == "X-Chroma-Token" && accessOnly && kind != "access log" {
					continue
				}
				if takesAny(cl, kinds[kind]) {
					what = append(what, kind)
				}
			}
			if len(what) == 0 {
				continue
			}
			out = append(out, fmt.Sprintf("log %q writes the %s of this server with the %s header in clear (Caddy logs each request as it arrived, before chroma_auth runs): give that log %s%s",
				name, strings.Join(what, " and "), header, FilterHint(filterFor(header)), where(name)))
		}
	}
	return out
}

// where says where a log's format is set in a Caddyfile.
func where(logName string) string {
	if logName == "default" {
		return " (Caddyfile: `log default { ... }` in the global options)"
	}
	return " (Caddyfile: in the site's `log` block)"
}

// loggerNames are the loggers a server writes base (http.log.access or
// http.log.error) to: base itself, or base.<name> for the names its logs
// map hosts to.
func loggerNames(base string, srvLogs map[string]any, mapped bool) []string {
	if !mapped {
		return []string{base}
	}
	seen := map[string]bool{}
	add := func(n string) {
		if n == "" {
			seen[base] = true
		} else {
			seen[base+"."+n] = true
		}
	}
	def, _ := srvLogs["default_logger_name"].(string)
	if skip, _ := srvLogs["skip_unmapped_hosts"].(bool); !skip {
		add(def)
	}
	names, _ := srvLogs["logger_names"].(map[string]any)
	for _, v := range names {
		switch v := v.(type) {
		case string:
			add(v)
		case []any:
			for _, n := range v {
				s, _ := n.(string)
				add(s)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func sortedLogNames(m map[string]map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// takesAny reports whether log cl accepts an entry of any of the loggers.
func takesAny(cl map[string]any, loggers []string) bool {
	for _, l := range loggers {
		if loggerAllowed(strList(cl["include"]), strList(cl["exclude"]), l) {
			return true
		}
	}
	return false
}

// loggerAllowed is Caddy's rule (CustomLog.loggerAllowed) for a logger
// name: the longest matching namespace of include and exclude wins; with
// no include, what exclude does not take is accepted.
func loggerAllowed(include, exclude []string, name string) bool {
	if len(include) == 0 && len(exclude) == 0 {
		return true
	}
	name += "."
	accept, reject := 0, 0
	for _, ns := range include {
		if strings.HasPrefix(name, ns+".") && len(ns) > accept {
			accept = len(ns)
		}
	}
	if len(include) > 0 && accept == 0 {
		return false
	}
	for _, ns := range exclude {
		if ns == "*" {
			return false // every module's logs
		}
		if strings.HasPrefix(name, ns+".") && len(ns) > reject {
			reject = len(ns)
		}
	}
	if reject > accept {
		return false
	}
	return accept > reject || (len(include) == 0 && reject == 0)
}

// filtered reports whether log cl's encoder deletes or replaces header.
func filtered(cl map[string]any, header string) bool {
	enc, _ := cl["encoder"].(map[string]any)
	if enc["format"] != "filter" {
		return false
	}
	f, _ := dig(enc, "fields", "request>headers>"+header).(map[string]any)
	switch f["filter"] {
	case "delete", "replace":
		return true
	}
	return false
}

// discarded reports whether log cl writes nowhere.
func discarded(cl map[string]any) bool {
	return dig(cl, "writer", "output") == "discard"
}

func strList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
