package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Inspect loads one chroma_auth handler from its JSON the way Provision
// does (config.Handler.Prepare), without starting anything, for `caddy
// chroma-auth check`: what loads and what is wrong. Where is filled in by
// Check.
func Inspect(raw json.RawMessage) HandlerReport {
	var r HandlerReport
	h, err := config.Decode(raw)
	if err != nil {
		r.Errors = append(r.Errors, "config: "+err.Error())
		return r
	}
	r.FromEnv = h.FromEnv
	p, err := h.Prepare(os.LookupEnv)
	r.TokenHeader = p.TokenHeader
	for path := range p.Public {
		r.Public = append(r.Public, path)
	}
	sort.Strings(r.Public)
	r.Files = h.WatchedFiles(p.Sources)
	if files, err := h.CheckJWT(); files != nil || err != nil {
		r.Files = append(r.Files, files...)
		if err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	r.Authz = h.AuthzPath()
	r.Warnings = append(r.Warnings, p.Warnings...)
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	} else {
		pol := p.Policy
		r.Basic, r.Users, r.Tokens = pol.Creds.Basic(), pol.Creds.NumUsers(), pol.Creds.NumTokens()
		r.Keys = pol.Creds.NumKeys()
		if pol.RBAC != nil {
			r.Roles = len(pol.RBAC.Roles())
		}
	}
	r.Warnings = append(r.Warnings, FileModeWarnings(r.Files)...)
	if h.ForwardCredentials {
		r.Warnings = append(r.Warnings, "forward_credentials: the Authorization and X-Chroma-Token headers reach the upstream and its logs")
	}
	return r
}

// KeyWithinUser is `key create --config`'s check: every chroma_auth
// handler of config that reads keysFile loads its files as Provision would,
// and the new key must stay within what they give its user: tenant,
// databases, collection grants, and (with an authz file) the actions of
// its user's role. The error names the user and each excess.
func KeyWithinUser(configFile, adapter, keysFile string, issued *providers.Identity) error {
	handlers, err := Handlers(configFile, adapter)
	if err != nil {
		return err
	}
	want, err := filepath.Abs(keysFile)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "chroma-auth-key-check")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	empty := filepath.Join(tmp, "keys.jsonl")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return err
	}
	matched := 0
	for _, raw := range handlers {
		h, err := config.Decode(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", configFile, err)
		}
		if h.KeysFile == "" {
			continue
		}
		if got, err := filepath.Abs(caddy.NewReplacer().ReplaceAll(h.KeysFile, "")); err != nil || got != want {
			continue
		}
		matched++
		// The keys already made do not matter here (and there may be
		// none yet): the handler loads with an empty keys file.
		h.KeysFile = empty
		p, err := h.Prepare(os.LookupEnv)
		if err != nil {
			return fmt.Errorf("cannot check the key against %s: %w", configFile, err)
		}
		pol := p.Policy
		excess := pol.Creds.WiderThanUser(issued)
		narrowed, err := pol.Creds.NarrowToUser(issued)
		if err != nil {
			return fmt.Errorf("user %q has none of the key's scope: %w", issued.User, err)
		}
		if a := pol.RBAC.Excess(narrowed); len(a) > 0 {
			excess = append(excess, fmt.Sprintf("role %q grants %s, which user %q's role does not", issued.Role, strings.Join(a, ", "), issued.User))
		}
		if len(excess) > 0 {
			return fmt.Errorf("the key reaches beyond what user %q has: %s", issued.User, strings.Join(excess, "; "))
		}
	}
	if matched == 0 {
		return fmt.Errorf("no chroma_auth handler in %s reads keys file %s", configFile, keysFile)
	}
	return nil
}
