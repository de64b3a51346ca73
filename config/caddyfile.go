package config

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/audit"
)

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	chroma_auth [<matcher>] basic <htpasswd_file>
//	chroma_auth [<matcher>] token <token...>
//	chroma_auth [<matcher>] {
//	    basic               <htpasswd_file>
//	    users_file          <users.yaml>
//	    unlisted_users      all|deny
//	    collection_name_ttl <duration>
//	    token               <token...>
//	    token_file          <file...>
//	    keys_file           <keys.jsonl>
//	    client_cert         [required]
//	    audit               [{ public }]
//	    token_header        Authorization|X-Chroma-Token
//	    public              <path...>
//	    no_default_public
//	    forward_credentials
//	    realm               <realm>
//	    authz               <rbac.yaml>
//	    cache_size          <entries>
//	    max_concurrent_bcrypt <n>
//	    failures_per_minute <n>|off
//	    reload_interval     <duration>|off
//	    no_singleton_overwrite
//	    from_env
//	    jwt { issuer, jwks_url, key_file, secret, audience, ... } (see JWTConfig)
//	    limits { rate, burst, concurrent, max_batch, max_results, max_where, per tenant } (see QuotaConfig)
//	}
//
// With from_env alone (`chroma_auth from_env`), everything comes from
// Chroma's own environment variables.
func (m *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		// one-line form: chroma_auth basic <file> | chroma_auth token <tok...>
		if err := m.unmarshalOption(d); err != nil {
			return err
		}
		if d.NextBlock(0) {
			return d.Err("chroma_auth: use either the one-line form or a block, not both")
		}
		return nil
	}
	for d.NextBlock(0) {
		if err := m.unmarshalOption(d); err != nil {
			return err
		}
	}
	return nil
}

// unmarshalOption reads one option; the dispenser is on its name.
func (m *Handler) unmarshalOption(d *caddyfile.Dispenser) error {
	a := optionArgs{d: d, name: d.Val(), args: d.RemainingArgs()}
	if handled, err := m.unmarshalCredentialOption(a); handled {
		return err
	}
	if handled, err := m.unmarshalQuotaOption(a); handled {
		return err
	}
	var err error
	switch a.name {
	case "token_header":
		if m.TokenHeader, err = a.one(); err == nil {
			if _, herr := CanonicalTokenHeader(m.TokenHeader); herr != nil {
				return d.Err(herr.Error())
			}
		}
	case "public":
		var paths []string
		if paths, err = a.some(); err == nil {
			for _, p := range paths {
				if perr := CheckPublicPath(p); perr != nil {
					return d.Err(perr.Error())
				}
			}
			m.Public = append(m.Public, paths...)
		}
	case "no_default_public":
		m.NoDefaultPublic, err = true, a.none()
	case "forward_credentials":
		m.ForwardCredentials, err = true, a.none()
	case "realm":
		m.Realm, err = a.one()
	case "authz":
		m.AuthzFile, err = a.one()
	case "audit":
		if m.Audit != nil {
			return d.Errf("chroma_auth: audit given twice")
		}
		m.Audit, err = audit.Parse(d, a.args)
	case "failures_per_minute":
		if len(a.args) == 1 && a.args[0] == "off" {
			m.FailuresPerMinute = -1
			break
		}
		m.FailuresPerMinute, err = a.count()
	case "reload_interval":
		m.ReloadInterval, err = a.duration(true, "2s")
	case "collection_name_ttl":
		m.CollectionNameTTL, err = a.duration(false, "10s")
	case "no_singleton_overwrite":
		m.NoSingletonOverwrite, err = true, a.none()
	case "cache_size":
		m.CacheSize, err = a.count()
	case "max_concurrent_bcrypt":
		m.MaxConcurrentBcrypt, err = a.count()
	default:
		return d.Errf("chroma_auth: unknown subdirective %q", a.name)
	}
	return err
}

// unmarshalCredentialOption reads the options that say where credentials
// come from; handled is false for any other option.
func (m *Handler) unmarshalCredentialOption(a optionArgs) (handled bool, err error) {
	d := a.d
	switch a.name {
	case "basic":
		if m.HtpasswdFile != "" {
			return true, d.Errf("chroma_auth: basic given twice")
		}
		m.HtpasswdFile, err = a.one()
	case "users_file":
		m.UsersFile, err = a.one()
	case "unlisted_users":
		if m.UnlistedUsers, err = a.one(); err == nil && !validUnlisted(m.UnlistedUsers) {
			return true, d.Errf("chroma_auth: unlisted_users wants all or deny; got %q", m.UnlistedUsers)
		}
	case "token":
		var toks []string
		toks, err = a.some()
		m.Tokens = append(m.Tokens, toks...)
	case "token_file":
		var files []string
		files, err = a.some()
		m.TokenFiles = append(m.TokenFiles, files...)
	case "keys_file":
		if m.KeysFile != "" {
			return true, d.Errf("chroma_auth: keys_file given twice")
		}
		m.KeysFile, err = a.one()
	case "jwt":
		if len(a.args) != 0 {
			return true, d.Err("chroma_auth: jwt takes a block, no arguments")
		}
		if m.JWT == nil {
			m.JWT = new(JWTConfig)
		}
		err = unmarshalJWT(d, m.JWT)
	case "client_cert":
		if m.ClientCert != nil {
			return true, d.Errf("chroma_auth: client_cert given twice")
		}
		m.ClientCert, err = unmarshalClientCert(d, a.args)
	case "from_env":
		m.FromEnv, err = true, a.none()
	default:
		return false, nil
	}
	return true, err
}

// optionArgs are the arguments of one option, with the checks of their
// number and form; errors name the option and its line.
type optionArgs struct {
	d    *caddyfile.Dispenser
	name string
	args []string
}

func (a optionArgs) one() (string, error) {
	if len(a.args) != 1 {
		return "", a.d.Errf("chroma_auth: %s takes exactly one argument", a.name)
	}
	return a.args[0], nil
}

func (a optionArgs) some() ([]string, error) {
	if len(a.args) == 0 {
		return nil, a.d.Errf("chroma_auth: %s needs at least one argument", a.name)
	}
	return a.args, nil
}

func (a optionArgs) none() error {
	if len(a.args) != 0 {
		return a.d.Errf("chroma_auth: %s takes no arguments", a.name)
	}
	return nil
}

func (a optionArgs) count() (int, error) {
	v, err := a.one()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, a.d.Errf("chroma_auth: %s wants a whole number, got %q", a.name, v)
	}
	return n, nil
}

// duration reads a positive duration, or "off" (-1) where off is allowed.
func (a optionArgs) duration(off bool, example string) (caddy.Duration, error) {
	v, err := a.one()
	if err != nil {
		return 0, err
	}
	if off && v == "off" {
		return -1, nil
	}
	dur, perr := caddy.ParseDuration(v)
	if perr != nil || dur <= 0 {
		want := "a duration such as " + example
		if off {
			want += ", or off"
		}
		return 0, a.d.Errf("chroma_auth: %s wants %s; got %q", a.name, want, v)
	}
	return caddy.Duration(dur), nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
