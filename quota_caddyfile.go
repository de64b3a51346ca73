package chromaauth

import (
	"fmt"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

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
func (m *ChromaAuth) unmarshalQuotaOption(a optionArgs) (handled bool, err error) {
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
func (h *ChromaAuth) validateQuota() error {
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
