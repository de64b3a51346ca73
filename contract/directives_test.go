package contract

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	chromaauth "github.com/caddy-chroma-auth/caddy-chroma-auth"
)

// adaptBlock adapts a site whose chroma_auth block is body, as `caddy
// adapt` does; the error is the parser's.
func adaptBlock(body string) error {
	cfg := "http://127.0.0.1:9 {\n\tchroma_auth {\n" + body + "\n\t}\n}\n"
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
	return err
}

// unknownWord reports whether the parser refused word as unknown (not
// for its arguments).
func unknownWord(err error) bool {
	return err != nil && strings.Contains(err.Error(), "unknown")
}

// accepted are the words the parser takes as subdirectives of a block:
// every string a switch of the package's source matches on is tried, the
// parser says which it knows. wrap puts the word (with one argument) into
// a chroma_auth block.
func accepted(t *testing.T, wrap func(word string) string) map[string]bool {
	t.Helper()
	if err := adaptBlock(wrap("no_such_subdirective_at_all")); !unknownWord(err) {
		t.Fatalf("the parser does not refuse an unknown subdirective as unknown: %v", err)
	}
	out := map[string]bool{}
	words := parseDir(t, "config").caseLabels() // the Caddyfile block's parser
	for _, dir := range []string{".", "audit"} {
		for w := range parseDir(t, dir).caseLabels() {
			words[w] = true
		}
	}
	for w := range words {
		if w == "" || strings.ContainsAny(w, " \t{}\"") {
			continue
		}
		if !unknownWord(adaptBlock(wrap(w))) {
			out[w] = true
		}
	}
	return out
}

// optionBlock is the first word of each line of the fenced caddyfile
// block in text that opens with opening, up to the line that closes it.
func optionBlock(t *testing.T, text, opening string) map[string]bool {
	t.Helper()
	for _, b := range fences(text, "caddyfile") {
		lines := strings.Split(b, "\n")
		for i, l := range lines {
			if !strings.HasPrefix(strings.TrimSpace(l), opening) {
				continue
			}
			indent := len(l) - len(strings.TrimLeft(l, "\t "))
			out := map[string]bool{}
			for _, l := range lines[i+1:] {
				if strings.TrimSpace(l) == "}" && len(l)-len(strings.TrimLeft(l, "\t ")) == indent {
					return out
				}
				nested := len(l)-len(strings.TrimLeft(l, "\t ")) > indent+1 // a sub-block's lines (rows_claims { … })
				if f := strings.Fields(l); len(f) > 0 && !nested && !strings.HasPrefix(f[0], "#") && f[0] != "}" {
					out[f[0]] = true
				}
			}
		}
	}
	t.Fatalf("README.md has no caddyfile block with a line starting %q", opening)
	return nil
}

// TestReadmeListsEverySubdirective: the option block ("The block, with
// every option") and the option table of "The Caddyfile" name exactly the
// subdirectives the parser accepts.
func TestReadmeListsEverySubdirective(t *testing.T) {
	sec := section(t, readme(t), "## The Caddyfile")
	code := accepted(t, func(w string) string { return "\t\t" + w })
	if !code["basic"] || !code["token"] {
		t.Fatalf("the parser accepts none of basic, token: the probe is broken (%v)", code)
	}
	block := optionBlock(t, sec, "chroma_auth [<matcher>] {")
	compare(t, code, block,
		"directive %q is accepted by the parser but not in README's option block (## The Caddyfile)",
		"README's option block (## The Caddyfile) lists %q, which the parser does not accept")
	table := map[string]bool{}
	for _, row := range tableRows(t, sec, "option") {
		for _, s := range spans(row[0]) {
			table[s] = true
		}
	}
	compare(t, code, table,
		"directive %q is accepted by the parser but not in README's option table (## The Caddyfile)",
		"README's option table (## The Caddyfile) lists %q, which the parser does not accept")
}

// TestReadmeOptionTableJSONFields: the table's JSON field column names
// exactly the handler's JSON fields.
func TestReadmeOptionTableJSONFields(t *testing.T) {
	sec := section(t, readme(t), "## The Caddyfile")
	doc := map[string]bool{}
	for _, row := range tableRows(t, sec, "option") {
		if len(row) < 2 {
			t.Fatalf("option table row without a JSON field: %v", row)
		}
		for _, s := range spans(row[1]) {
			doc[s] = true
		}
	}
	code := map[string]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeOf(chromaauth.ChromaAuth{})) {
		if tag := f.Tag.Get("json"); tag != "" && tag != "-" {
			code[strings.Split(tag, ",")[0]] = true
		}
	}
	compare(t, code, doc,
		"JSON field %q of the handler is not in README's option table (## The Caddyfile)",
		"README's option table names JSON field %q, which the handler does not have")
}

// TestReadmeListsEveryAuditOption: the audit block of "The audit's own
// output" names exactly the options the audit block's parser accepts.
func TestReadmeListsEveryAuditOption(t *testing.T) {
	sec := section(t, readme(t), "## Audit log")
	code := accepted(t, func(w string) string { return "\t\taudit {\n\t\t\t" + w + " x\n\t\t}" })
	if !code["public"] || !code["output"] {
		t.Fatalf("the audit parser accepts neither public nor output: the probe is broken (%v)", keys(code))
	}
	compare(t, code, optionBlock(t, sec, "audit {"),
		"audit option %q is accepted by the parser but not in README's audit block (## Audit log)",
		"README's audit block (## Audit log) lists %q, which the parser does not accept")
}

// TestReadmeListsEveryJWTOption: the jwt block of "JWT and OpenID
// Connect" names exactly the options the jwt block's parser accepts.
func TestReadmeListsEveryJWTOption(t *testing.T) {
	sec := section(t, readme(t), "## JWT and OpenID Connect")
	code := accepted(t, func(w string) string { return "\t\tjwt {\n\t\t\t" + w + " x\n\t\t}" })
	if !code["issuer"] {
		t.Fatalf("the jwt parser does not accept issuer: the probe is broken (%v)", keys(code))
	}
	compare(t, code, optionBlock(t, sec, "jwt {"),
		"jwt option %q is accepted by the parser but not in README's jwt block (## JWT and OpenID Connect)",
		"README's jwt block (## JWT and OpenID Connect) lists %q, which the parser does not accept")
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestJWTJSONNamesAreTheCaddyfiles: "In JSON the block is the jwt object
// of the handler, with the same names (key_files a list)": the jwt
// block's options and JSON fields are the same names, key_file aside.
func TestJWTJSONNamesAreTheCaddyfiles(t *testing.T) {
	sec := section(t, readme(t), "## JWT and OpenID Connect")
	if !strings.Contains(sec, "with the same names\n(`key_files` a list)") && !strings.Contains(sec, "with the same names (`key_files` a list)") {
		t.Fatal("README's JWT section no longer says the JSON names are the Caddyfile's: update this test")
	}
	code := map[string]bool{}
	typ := reflect.TypeOf(chromaauth.JWTConfig{})
	for i := 0; i < typ.NumField(); i++ {
		if tag := typ.Field(i).Tag.Get("json"); tag != "" && tag != "-" {
			name := strings.Split(tag, ",")[0]
			if name == "key_files" {
				name = "key_file"
			}
			code[name] = true
		}
	}
	compare(t, code, optionBlock(t, sec, "jwt {"),
		"the jwt JSON field %q has no option of that name in README's jwt block",
		"README's jwt block lists %q, which is no JSON field of the jwt object")
}
