package jwtauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxDocument bounds a discovery or JWKS document.
const maxDocument = 1 << 20

// fetchRemote gets the provider's keys: from the JWKS URL, else by
// OpenID Connect discovery (the issuer's openid-configuration names the
// JWKS URL, and must name the configured issuer).
func fetchRemote(ctx context.Context, client *http.Client, c *Config) ([]key, error) {
	jwksURL := c.JWKSURL
	if jwksURL == "" {
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		wellKnown := strings.TrimSuffix(c.Issuer, "/") + "/.well-known/openid-configuration"
		if err := getJSON(ctx, client, wellKnown, &meta); err != nil {
			return nil, err
		}
		if meta.Issuer != c.Issuer {
			return nil, fmt.Errorf("discovery: %s names issuer %q, not the configured %q", RedactURL(wellKnown), RedactURL(meta.Issuer), RedactURL(c.Issuer))
		}
		if !strings.HasPrefix(meta.JWKSURI, "https://") && !strings.HasPrefix(meta.JWKSURI, "http://") {
			return nil, fmt.Errorf("discovery: %s has no http(s) jwks_uri", RedactURL(wellKnown))
		}
		jwksURL = meta.JWKSURI
	}
	body, err := get(ctx, client, jwksURL)
	if err != nil {
		return nil, err
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", RedactURL(jwksURL), err)
	}
	return keys, nil
}

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	body, err := get(ctx, client, url)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %v", RedactURL(url), err)
	}
	return nil
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", RedactURL(url), redactErr(err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, redactErr(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", RedactURL(url), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", RedactURL(url), err)
	}
	if len(body) > maxDocument {
		return nil, fmt.Errorf("%s: document larger than %d bytes", RedactURL(url), maxDocument)
	}
	return body, nil
}
