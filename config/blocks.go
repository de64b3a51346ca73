package config

import (
	"fmt"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// The sub-blocks of the chroma_auth block: jwt { }, limits { },
// shared_state <url> { }, client_cert [required].

// unmarshalJWT reads the `jwt { ... }` block; the dispenser is on `jwt`.
//
//	jwt {
//	    issuer            <url>
//	    jwks_url          <url>
//	    key_file          <pem...>
//	    secret            <secret>
//	    secret_file       <file>
//	    audience          <aud...>
//	    algorithms        <alg...>
//	    leeway            <duration>
//	    user_claim        <path>
//	    tenant_claim      <path>
//	    databases_claim   <path>
//	    role_claim        <path>
//	    collections_claim <path>
//	    rows_claims {
//	        <metadata key> <claim path>
//	    }
//	    limits_claim      <path>
//	    refresh_interval  <duration>
//	    min_refresh_interval <duration>
//	    cache_size        <n>
//	}
func unmarshalJWT(d *caddyfile.Dispenser, c *JWTConfig) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		switch name {
		case "rows_claims": // a block, not arguments
			if err := unmarshalRowsClaims(d, c); err != nil {
				return err
			}
			continue
		}
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.Errf("chroma_auth: jwt: %s needs an argument", name)
		}
		list := func(dst *[]string) error { *dst = append(*dst, args...); return nil }
		one := func(dst *string) error {
			if len(args) != 1 {
				return d.Errf("chroma_auth: jwt: %s takes exactly one argument", name)
			}
			*dst = args[0]
			return nil
		}
		dur := func(dst *caddy.Duration) error {
			var s string
			if err := one(&s); err != nil {
				return err
			}
			v, err := caddy.ParseDuration(s)
			if err != nil || v < 0 {
				return d.Errf("chroma_auth: jwt: %s wants a duration such as 30s; got %q", name, s)
			}
			*dst = caddy.Duration(v)
			return nil
		}
		var err error
		switch name {
		case "issuer":
			err = one(&c.Issuer)
		case "jwks_url":
			err = one(&c.JWKSURL)
		case "key_file":
			err = list(&c.KeyFiles)
		case "secret":
			err = one(&c.Secret)
		case "secret_file":
			err = one(&c.SecretFile)
		case "audience":
			err = list(&c.Audience)
		case "algorithms":
			err = list(&c.Algorithms)
		case "leeway":
			err = dur(&c.Leeway)
		case "user_claim":
			err = one(&c.UserClaim)
		case "tenant_claim":
			err = one(&c.TenantClaim)
		case "databases_claim":
			err = one(&c.DatabasesClaim)
		case "role_claim":
			err = one(&c.RoleClaim)
		case "collections_claim":
			err = one(&c.CollectionsClaim)
		case "limits_claim":
			err = one(&c.LimitsClaim)
		case "refresh_interval":
			err = dur(&c.RefreshInterval)
		case "min_refresh_interval":
			err = dur(&c.MinRefreshInterval)
		case "cache_size":
			var s string
			if err = one(&s); err == nil {
				if _, serr := fmt.Sscanf(s, "%d", &c.CacheSize); serr != nil || c.CacheSize < 0 {
					return d.Errf("chroma_auth: jwt: cache_size wants a whole number; got %q", s)
				}
			}
		default:
			return d.Errf("chroma_auth: jwt: unknown option %q", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unmarshalRowsClaims reads `rows_claims { <metadata key> <claim path> ... }`.
func unmarshalRowsClaims(d *caddyfile.Dispenser, c *JWTConfig) error {
	if d.NextArg() {
		return d.Errf("chroma_auth: jwt: rows_claims takes a block of <metadata key> <claim path> lines")
	}
	if c.RowsClaims == nil {
		c.RowsClaims = make(map[string]string)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		key := d.Val()
		args := d.RemainingArgs()
		if len(args) != 1 {
			return d.Errf("chroma_auth: jwt: rows_claims: %s wants one claim path", key)
		}
		if _, dup := c.RowsClaims[key]; dup {
			return d.Errf("chroma_auth: jwt: rows_claims: %s given twice", key)
		}
		c.RowsClaims[key] = args[0]
	}
	if len(c.RowsClaims) == 0 {
		return d.Errf("chroma_auth: jwt: rows_claims is empty")
	}
	return nil
}

// unmarshalQuotaOption reads `limits { ... }` and `shared_state <url> [{
// timeout <duration> }]`;
// handled is false for any other option.
//
//	limits {
//	    rate        <n>/s|<n>/m
//	    burst       <n>
//	    concurrent  <n>
//	    max_batch   <n>
//	    max_results <n>
//	    max_where   <n>
//	    per tenant
//	}
func (m *Handler) unmarshalQuotaOption(a optionArgs) (handled bool, err error) {
	switch a.name {
	case "limits":
		if m.Limits != nil {
			return true, a.d.Err("chroma_auth: limits given twice")
		}
		if len(a.args) != 0 {
			return true, a.d.Err("chroma_auth: limits takes a block, no arguments")
		}
		m.Limits = new(QuotaConfig)
		return true, unmarshalLimits(a.d, m.Limits)
	case "shared_state":
		if m.SharedState != nil {
			return true, a.d.Err("chroma_auth: shared_state given twice")
		}
		if len(a.args) != 1 {
			return true, a.d.Err("chroma_auth: shared_state takes one URL (redis://host:port/db or rediss://…), then an optional block { timeout <duration> }")
		}
		m.SharedState = &SharedState{URL: a.args[0]}
		return true, unmarshalShared(a.d, m.SharedState)
	}
	return false, nil
}

func unmarshalLimits(d *caddyfile.Dispenser, c *QuotaConfig) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		args := d.RemainingArgs()
		if name == "per" {
			if len(args) != 1 || args[0] != "tenant" {
				return d.Err("chroma_auth: limits: per wants tenant (per tenant)")
			}
			c.PerTenant = true
			continue
		}
		if len(args) != 1 {
			return d.Errf("chroma_auth: limits: %s takes exactly one argument", name)
		}
		if name == "rate" {
			r, err := quota.ParseRate(args[0])
			if err != nil {
				return d.Errf("chroma_auth: limits: %v", err)
			}
			c.Rate = r
			continue
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n <= 0 {
			return d.Errf("chroma_auth: limits: %s wants a whole number above 0, got %q", name, args[0])
		}
		switch name {
		case "burst":
			c.Burst = n
		case "concurrent":
			c.Concurrent = n
		case "max_batch":
			c.MaxBatch = n
		case "max_results":
			c.MaxResults = n
		case "max_where":
			c.MaxWhere = n
		default:
			return d.Errf("chroma_auth: limits: unknown limit %q (want rate, burst, concurrent, max_batch, max_results, max_where, per tenant)", name)
		}
	}
	if err := c.Validate(); err != nil {
		return d.Errf("chroma_auth: %v", err)
	}
	return nil
}

// validateQuota checks the limits block.
func (h *Handler) validateQuota() error {
	if h.Limits != nil {
		if err := h.Limits.Validate(); err != nil {
			return fmt.Errorf("chroma_auth: %w", err)
		}
	}
	return nil
}

func unmarshalShared(d *caddyfile.Dispenser, c *SharedState) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "timeout":
			if !d.NextArg() {
				return d.ArgErr()
			}
			t, err := caddy.ParseDuration(d.Val())
			if err != nil || t <= 0 {
				return d.Errf("chroma_auth: shared_state: timeout %q: want a duration above 0 (100ms)", d.Val())
			}
			c.Timeout = caddy.Duration(t)
			if d.NextArg() {
				return d.ArgErr()
			}
		default:
			return d.Errf("chroma_auth: shared_state: unknown option %q (want timeout)", d.Val())
		}
	}
	return nil
}

// unmarshalClientCert reads `client_cert [required]`.
func unmarshalClientCert(d *caddyfile.Dispenser, args []string) (*ClientCert, error) {
	switch {
	case len(args) == 0:
		return &ClientCert{}, nil
	case len(args) == 1 && args[0] == "required":
		return &ClientCert{Required: true}, nil
	}
	return nil, d.Errf("chroma_auth: client_cert takes no argument or required; got %q", args)
}
