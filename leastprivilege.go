package chromaauth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// reasonJWTOutsideUser: a verified JWT whose tenant or databases have
// nothing in common with what the files give its user (answered 401).
const reasonJWTOutsideUser = "jwt_outside_user"

// narrowJWT is a verified JWT's identity narrowed to what the files of the
// request's credential set give its user (see providers.Narrow): never
// more than its user has. reason is set, and the identity nil, when the
// token names a tenant or databases its user has none of.
func (h *ChromaAuth) narrowJWT(creds *providers.Credentials, id *providers.Identity) (*providers.Identity, string) {
	n, err := creds.NarrowToUser(id)
	if err != nil {
		h.logger.Debug("JWT refused: outside its user's scope", zap.Error(err))
		return nil, reasonJWTOutsideUser
	}
	return n, ""
}

// keyRoleWarnings names every API key whose role grants actions its
// user's role does not: the key acts without them (RBAC.Allowed).
func keyRoleWarnings(pol *policy) []string {
	if pol.rbac == nil {
		return nil
	}
	var out []string
	pol.creds.EachKey(func(where, keyID string, id *providers.Identity) {
		if excess := pol.rbac.Excess(id); len(excess) > 0 {
			out = append(out, fmt.Sprintf("%s: key %q reaches beyond its user: role %q grants %s, which user %q's role does not; it acts with no more than its user has",
				where, keyID, id.Role, strings.Join(excess, ", "), id.User))
		}
	})
	return out
}

// keyWithinUser is `key create --config`'s check: every chroma_auth
// handler of config that reads keysFile loads its files as Provision would,
// and the new key must stay within what they give its user: tenant,
// databases, collection grants, and (with an authz file) the actions of
// its user's role. The error names the user and each excess.
func keyWithinUser(config, adapter, keysFile string, issued *providers.Identity) error {
	handlers, err := cli.Handlers(config, adapter)
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
		h, err := handlerOf(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", config, err)
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
		pol, _, err := h.prepare(os.LookupEnv)
		if err != nil {
			return fmt.Errorf("cannot check the key against %s: %w", config, err)
		}
		excess := pol.creds.WiderThanUser(issued)
		narrowed, err := pol.creds.NarrowToUser(issued)
		if err != nil {
			return fmt.Errorf("user %q has none of the key's scope: %w", issued.User, err)
		}
		if a := pol.rbac.Excess(narrowed); len(a) > 0 {
			excess = append(excess, fmt.Sprintf("role %q grants %s, which user %q's role does not", issued.Role, strings.Join(a, ", "), issued.User))
		}
		if len(excess) > 0 {
			return fmt.Errorf("the key reaches beyond what user %q has: %s", issued.User, strings.Join(excess, "; "))
		}
	}
	if matched == 0 {
		return fmt.Errorf("no chroma_auth handler in %s reads keys file %s", config, keysFile)
	}
	return nil
}
