package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Chroma's server settings, as environment variables. Each setting has its
// 0.5+ name first and its 0.4 name after; the first one set wins, and both
// set to different values is an error (a deployment that means two things
// must not be guessed at).
var (
	envAuthnProvider = []string{"CHROMA_SERVER_AUTHN_PROVIDER", "CHROMA_SERVER_AUTH_PROVIDER"}
	envCredsFile     = []string{"CHROMA_SERVER_AUTHN_CREDENTIALS_FILE", "CHROMA_SERVER_AUTH_CREDENTIALS_FILE"}
	envCreds         = []string{"CHROMA_SERVER_AUTHN_CREDENTIALS", "CHROMA_SERVER_AUTH_CREDENTIALS"}
	envTokenHeader   = []string{"CHROMA_AUTH_TOKEN_TRANSPORT_HEADER", "CHROMA_SERVER_AUTH_TOKEN_TRANSPORT_HEADER"}
	envAuthzProvider = []string{"CHROMA_SERVER_AUTHZ_PROVIDER"}
	envAuthzFile     = []string{"CHROMA_SERVER_AUTHZ_CONFIG_FILE"}
	envAuthzInline   = []string{"CHROMA_SERVER_AUTHZ_CONFIG"}
)

type envKind int

const (
	envBasic envKind = iota + 1
	envToken
)

// chromaAuthnProviders are the values of CHROMA_SERVER_AUTHN_PROVIDER (and
// 0.4's CHROMA_SERVER_AUTH_PROVIDER) the gateway understands. The
// shorthands are matched without regard to case.
var chromaAuthnProviders = map[string]envKind{
	"chromadb.auth.basic_authn.BasicAuthenticationServerProvider": envBasic, // 0.5+
	"chromadb.auth.token_authn.TokenAuthenticationServerProvider": envToken, // 0.5+
	"chromadb.auth.basic.BasicAuthServerProvider":                 envBasic, // 0.4
	"chromadb.auth.token.TokenAuthServerProvider":                 envToken, // 0.4
	"basic": envBasic, // 0.4 shorthand
	"token": envToken, // 0.4 shorthand
}

// chromaAuthzProviders are the values of CHROMA_SERVER_AUTHZ_PROVIDER the
// gateway understands: Chroma's simple RBAC, by its 0.5+ and 0.4 class
// paths.
var chromaAuthzProviders = map[string]bool{
	"chromadb.auth.simple_rbac_authz.SimpleRBACAuthorizationProvider": true, // 0.5+
	"chromadb.auth.authz.SimpleRBACAuthorizationProvider":             true, // 0.4
}

func acceptedValues[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// applyChromaEnv fills the handler's credential settings from the
// environment variables a Chroma 0.4–0.6 server is configured with, so that
// a Chroma deployment's environment (a docker-compose file, a systemd unit)
// works unchanged with the gateway. lookup is os.LookupEnv in production.
//
//   - CHROMA_SERVER_AUTHN_PROVIDER (0.4: CHROMA_SERVER_AUTH_PROVIDER) says
//     basic or token, by Chroma's class path or the shorthand basic/token.
//     Any other value is an error that lists the accepted ones.
//   - CHROMA_SERVER_AUTHN_CREDENTIALS_FILE (0.4: ..._AUTH_CREDENTIALS_FILE)
//     is the htpasswd file for basic (→ HtpasswdFile), or a token file,
//     plain or Chroma's users YAML, for token (→ TokenFiles).
//   - CHROMA_SERVER_AUTHN_CREDENTIALS (0.4: ..._AUTH_CREDENTIALS) is, for
//     token, the one token (→ Tokens, taken literally: braces in it are not
//     placeholders). For basic, Chroma reads `user:<bcrypt hash>` lines
//     from it; the gateway refuses it (with a message saying what to do)
//     rather than keep passwords or hashes in the environment: put the
//     lines in an htpasswd file and set the _FILE variable. A plain-text
//     `user:password` (which Chroma itself could never check) is refused
//     the same way, and never echoed.
//   - CHROMA_AUTH_TOKEN_TRANSPORT_HEADER (0.4:
//     CHROMA_SERVER_AUTH_TOKEN_TRANSPORT_HEADER): Authorization or
//     X-Chroma-Token, also spelt AUTHORIZATION and X_CHROMA_TOKEN
//     (→ TokenHeader).
//   - CHROMA_SERVER_AUTHZ_PROVIDER (simple RBAC) with
//     CHROMA_SERVER_AUTHZ_CONFIG_FILE (→ AuthzFile).
//
// A provider without credentials, credentials without a provider, both the
// inline and the file credentials, an authz provider without its file and
// a setting that contradicts the handler's own configuration are errors.
// Errors name variables, never their secret values. 0.4's
// CHROMA_SERVER_AUTH_CREDENTIALS_PROVIDER is not needed and is ignored:
// which credentials are set tells the same.
func (h *Handler) applyChromaEnv(lookup func(string) (string, bool)) error {
	get := func(names []string) (string, string, error) { return envValue(lookup, names) }

	provider, providerVar, err := get(envAuthnProvider)
	if err != nil {
		return err
	}
	credsFile, credsFileVar, err := get(envCredsFile)
	if err != nil {
		return err
	}
	creds, credsVar, err := get(envCreds)
	if err != nil {
		return err
	}
	header, headerVar, err := get(envTokenHeader)
	if err != nil {
		return err
	}
	authzProvider, authzProviderVar, err := get(envAuthzProvider)
	if err != nil {
		return err
	}
	authzFile, authzFileVar, err := get(envAuthzFile)
	if err != nil {
		return err
	}
	_, authzInlineVar, err := get(envAuthzInline)
	if err != nil {
		return err
	}

	// Authentication.
	switch {
	case providerVar == "" && (credsFileVar != "" || credsVar != ""):
		set := credsFileVar
		if set == "" {
			set = credsVar
		}
		return fmt.Errorf("%s is set but %s is not: set it to one of %s", set, envAuthnProvider[0], acceptedValues(chromaAuthnProviders))
	case providerVar == "" && !h.hasCredentials():
		return fmt.Errorf("no Chroma authentication settings in the environment: set %s (0.4: %s) to one of %s, and %s or %s",
			envAuthnProvider[0], envAuthnProvider[1], acceptedValues(chromaAuthnProviders), envCredsFile[0], envCreds[0])
	}
	if providerVar != "" {
		kind, ok := chromaAuthnProviders[provider]
		if !ok {
			kind, ok = chromaAuthnProviders[strings.ToLower(provider)]
		}
		if !ok {
			return fmt.Errorf("%s=%q: not a provider the gateway knows; want one of %s", providerVar, provider, acceptedValues(chromaAuthnProviders))
		}
		switch {
		case credsFileVar == "" && credsVar == "":
			return fmt.Errorf("%s is set but no credentials are: set %s (0.4: %s) or %s", providerVar, envCredsFile[0], envCredsFile[1], envCreds[0])
		case credsFileVar != "" && credsVar != "":
			return fmt.Errorf("%s and %s are both set: Chroma takes one or the other, keep one", credsFileVar, credsVar)
		}
		switch kind {
		case envBasic:
			if credsVar != "" {
				// Chroma's own form: user:bcrypt-hash lines in the variable.
				if _, err := providers.ParseHtpasswd(credsVar, []byte(creds)); err != nil {
					return basicInlineError(credsVar, creds)
				}
				if h.HtpasswdFile != "" {
					return fmt.Errorf("%s holds htpasswd lines, but the configuration sets an htpasswd file (basic): keep one", credsVar)
				}
				h.inlineHtpasswd, h.inlineHtpasswdName = creds, credsVar
				break
			}
			if h.HtpasswdFile != "" && h.HtpasswdFile != escapePlaceholders(credsFile) {
				return fmt.Errorf("%s names an htpasswd file, but the configuration sets another (basic): keep one", credsFileVar)
			}
			h.HtpasswdFile = escapePlaceholders(credsFile)
		case envToken:
			if credsVar != "" {
				if strings.ContainsAny(creds, "\r\n") {
					return fmt.Errorf("%s holds several lines (a users YAML?): put them in a file and set %s instead", credsVar, envCredsFile[0])
				}
				h.Tokens = appendNew(h.Tokens, escapePlaceholders(creds))
			} else {
				h.TokenFiles = appendNew(h.TokenFiles, escapePlaceholders(credsFile))
			}
		}
	}

	if headerVar != "" {
		canon, err := CanonicalTokenHeader(header)
		if err != nil {
			return fmt.Errorf("%s=%q: want Authorization or X-Chroma-Token (or AUTHORIZATION, X_CHROMA_TOKEN)", headerVar, header)
		}
		if h.TokenHeader != "" {
			mine, err := CanonicalTokenHeader(h.TokenHeader)
			if err == nil && mine != canon {
				return fmt.Errorf("%s says %s but the configuration's token_header says %s: keep one", headerVar, canon, mine)
			}
		}
		h.TokenHeader = canon
	}

	// Authorization.
	switch {
	case authzInlineVar != "":
		return fmt.Errorf("%s (inline RBAC config) is not supported: put it in a file and set %s", authzInlineVar, envAuthzFile[0])
	case authzProviderVar == "" && authzFileVar != "":
		return fmt.Errorf("%s is set but %s is not: set it to %s, or unset the file", authzFileVar, envAuthzProvider[0], acceptedValues(chromaAuthzProviders))
	case authzProviderVar != "":
		if !chromaAuthzProviders[authzProvider] {
			return fmt.Errorf("%s=%q: not a provider the gateway knows; want one of %s", authzProviderVar, authzProvider, acceptedValues(chromaAuthzProviders))
		}
		if authzFileVar == "" {
			return fmt.Errorf("%s is set but %s is not: set it to the RBAC file (roles_mapping and users)", authzProviderVar, envAuthzFile[0])
		}
		f := escapePlaceholders(authzFile)
		if h.AuthzFile != "" && h.AuthzFile != f {
			return fmt.Errorf("%s names an RBAC file, but the configuration sets another (authz_file): keep one", authzFileVar)
		}
		h.AuthzFile = f
	}
	return nil
}

// envValue returns the value of the first of names that is set and not
// blank, trimmed of spaces and blank lines (Chroma drops empty lines), and
// the variable it came from. Another of names set to a different value is
// an error, which names the variables but never quotes their values: some
// hold secrets.
func envValue(lookup func(string) (string, bool), names []string) (value, name string, err error) {
	for _, n := range names {
		v, ok := lookup(n)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			continue
		}
		if name == "" {
			value, name = v, n
			continue
		}
		if v != value {
			return "", "", fmt.Errorf("%s and %s are both set, to different values: keep one", name, n)
		}
	}
	return value, name, nil
}

// basicInlineError explains why inline basic credentials that are not
// htpasswd lines are refused. The value is never quoted.
func basicInlineError(name, value string) error {
	fix := fmt.Sprintf("write them to an htpasswd file with `caddy chroma-auth htpasswd add --file <file> --user <user>` "+
		"(or `htpasswd -B`) and set %s, or put user:bcrypt-hash lines in %s", envCredsFile[0], name)
	_, err := providers.ParseHtpasswd(name, []byte(value))
	return fmt.Errorf("%s must hold user:bcrypt-hash lines, as in Chroma (%v); a plain password "+
		"in the environment leaks to every process that can read it; %s", name, stripName(err, name), fix)
}

// stripName drops the leading "NAME: " of a parse error, already said.
func stripName(err error, name string) string {
	return strings.TrimPrefix(err.Error(), name+": ")
}

// hasCredentials reports whether the handler's own configuration already
// names credentials.
func (h *Handler) hasCredentials() bool {
	return h.HtpasswdFile != "" || h.inlineHtpasswd != "" || h.UsersFile != "" || len(h.Tokens) > 0 || len(h.TokenFiles) > 0 || h.JWT != nil || h.KeysFile != ""
}

// escapePlaceholders makes a value taken from the environment literal: the
// handler replaces placeholders such as {env.X} in its paths and tokens,
// and a token from the environment may well hold braces. Caddy's replacer
// reads `\{` and `\}` as literal braces.
func escapePlaceholders(s string) string {
	if !strings.ContainsAny(s, "{}") {
		return s
	}
	r := strings.NewReplacer("{", `\{`, "}", `\}`)
	return r.Replace(s)
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
