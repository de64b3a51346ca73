package chromaauth

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("chroma_auth", parseCaddyfile)
	// Authenticate where Caddy's own basic_auth does: after rewrites, before
	// the handlers (reverse_proxy) that reach Chroma. Users need no `order`.
	httpcaddyfile.RegisterDirectiveOrder("chroma_auth", httpcaddyfile.After, "basic_auth")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(ChromaAuth)
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return m, err
}

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
//	}
//
// With from_env alone (`chroma_auth from_env`), everything comes from
// Chroma's own environment variables.
func (m *ChromaAuth) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
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
func (m *ChromaAuth) unmarshalOption(d *caddyfile.Dispenser) error {
	name := d.Val()
	args := d.RemainingArgs()
	one := func() (string, error) {
		if len(args) != 1 {
			return "", d.Errf("chroma_auth: %s takes exactly one argument", name)
		}
		return args[0], nil
	}
	some := func() ([]string, error) {
		if len(args) == 0 {
			return nil, d.Errf("chroma_auth: %s needs at least one argument", name)
		}
		return args, nil
	}
	none := func() error {
		if len(args) != 0 {
			return d.Errf("chroma_auth: %s takes no arguments", name)
		}
		return nil
	}
	count := func() (int, error) {
		v, err := one()
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, d.Errf("chroma_auth: %s wants a whole number, got %q", name, v)
		}
		return n, nil
	}
	var err error
	switch name {
	case "basic", "htpasswd":
		if m.HtpasswdFile != "" {
			return d.Errf("chroma_auth: basic given twice")
		}
		m.HtpasswdFile, err = one()
	case "users_file":
		m.UsersFile, err = one()
	case "collection_name_ttl":
		var v string
		if v, err = one(); err != nil {
			break
		}
		dur, perr := caddy.ParseDuration(v)
		if perr != nil || dur <= 0 {
			return d.Errf("chroma_auth: collection_name_ttl wants a duration such as 10s; got %q", v)
		}
		m.CollectionNameTTL = caddy.Duration(dur)
	case "unlisted_users":
		if m.UnlistedUsers, err = one(); err == nil && !validUnlisted(m.UnlistedUsers) {
			return d.Errf("chroma_auth: unlisted_users wants all or deny; got %q", m.UnlistedUsers)
		}
	case "token":
		var toks []string
		toks, err = some()
		m.Tokens = append(m.Tokens, toks...)
	case "token_file":
		var files []string
		files, err = some()
		m.TokenFiles = append(m.TokenFiles, files...)
	case "keys_file":
		if m.KeysFile != "" {
			return d.Errf("chroma_auth: keys_file given twice")
		}
		m.KeysFile, err = one()
	case "audit":
		if m.Audit != nil {
			return d.Errf("chroma_auth: audit given twice")
		}
		m.Audit, err = unmarshalAudit(d, args)
	case "token_header":
		if m.TokenHeader, err = one(); err == nil {
			if _, herr := canonicalTokenHeader(m.TokenHeader); herr != nil {
				return d.Err(herr.Error())
			}
		}
	case "public":
		var paths []string
		if paths, err = some(); err == nil {
			for _, p := range paths {
				if perr := checkPublicPath(p); perr != nil {
					return d.Err(perr.Error())
				}
			}
			m.Public = append(m.Public, paths...)
		}
	case "no_default_public":
		m.NoDefaultPublic, err = true, none()
	case "forward_credentials":
		m.ForwardCredentials, err = true, none()
	case "realm":
		m.Realm, err = one()
	case "authz", "authz_file":
		m.AuthzFile, err = one()
	case "failures_per_minute":
		if len(args) == 1 && args[0] == "off" {
			m.FailuresPerMinute = -1
			break
		}
		m.FailuresPerMinute, err = count()
	case "reload_interval":
		var v string
		if v, err = one(); err != nil {
			break
		}
		if v == "off" {
			m.ReloadInterval = -1
			break
		}
		dur, perr := caddy.ParseDuration(v)
		if perr != nil || dur <= 0 {
			return d.Errf("chroma_auth: reload_interval wants a duration such as 2s, or off; got %q", v)
		}
		m.ReloadInterval = caddy.Duration(dur)
	case "no_singleton_overwrite":
		m.NoSingletonOverwrite, err = true, none()
	case "jwt":
		if len(args) != 0 {
			return d.Err("chroma_auth: jwt takes a block, no arguments")
		}
		if m.JWT == nil {
			m.JWT = new(JWTConfig)
		}
		err = unmarshalJWT(d, m.JWT)
	case "from_env":
		m.FromEnv, err = true, none()
	case "cache_size":
		m.CacheSize, err = count()
	case "max_concurrent_bcrypt":
		m.MaxConcurrentBcrypt, err = count()
	default:
		return d.Errf("chroma_auth: unknown subdirective %q", name)
	}
	return err
}

// Interface guard
var _ caddyfile.Unmarshaler = (*ChromaAuth)(nil)
