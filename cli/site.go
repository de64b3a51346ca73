package cli

import (
	"fmt"
	"net"
	"strings"
)

// openSite finds the chroma_auth handler of config that serves site
// ("" when the config has one handler) and opens an explainer on it. It
// returns where the handler is, as check names it.
func openSite(config, adapter, site, upstream string, open OpenExplainer) (Explainer, string, error) {
	cfg, _, err := adaptConfig(config, adapter)
	if err != nil {
		return nil, "", err
	}
	found, _ := findHandlers(cfg)
	if len(found) == 0 {
		return nil, "", fmt.Errorf("%s: no chroma_auth handler in the config", config)
	}
	matched := found
	if site != "" {
		matched = atSite(found, site)
	}
	switch {
	case len(matched) == 0:
		return nil, "", fmt.Errorf("%s: no chroma_auth handler serves site %q; the handlers: %s", config, site, wheres(found))
	case len(matched) > 1 && site == "":
		return nil, "", fmt.Errorf("%s: %d chroma_auth handlers; say which with --site <address>: %s", config, len(found), wheres(found))
	case len(matched) > 1:
		return nil, "", fmt.Errorf("%s: %d chroma_auth handlers serve site %q: %s", config, len(matched), site, wheres(matched))
	}
	ex, err := open(matched[0].raw, upstream)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s: %w", config, matched[0].where, err)
	}
	return ex, matched[0].where, nil
}

func wheres(found []foundHandler) string {
	s := make([]string, len(found))
	for i, f := range found {
		s[i] = f.where
	}
	return strings.Join(s, "; ")
}

// atSite keeps the handlers that serve site ("host", "host:port",
// ":port", with or without a scheme): those whose routes match the host
// (by name, or by no host matcher at all) on a server that listens on
// the port. A handler matched by its host name wins over a catch-all.
func atSite(found []foundHandler, site string) []foundHandler {
	host, port := splitSite(site)
	var exact, any []foundHandler
	for _, f := range found {
		if port != "" && !listensOn(f.server, port) {
			continue
		}
		switch {
		case host == "" || len(f.hosts) == 0:
			any = append(any, f)
		case hostIn(host, f.hosts):
			exact = append(exact, f)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return any
}

func splitSite(site string) (host, port string) {
	scheme := ""
	if i := strings.Index(site, "://"); i >= 0 {
		scheme, site = strings.ToLower(site[:i]), site[i+3:]
	}
	site = strings.TrimSuffix(site, "/")
	if h, p, err := net.SplitHostPort(site); err == nil {
		return strings.ToLower(h), p
	}
	switch scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	}
	return strings.ToLower(site), port
}

func listensOn(srv map[string]any, port string) bool {
	listen, _ := srv["listen"].([]any)
	for _, l := range listen {
		if s, ok := l.(string); ok && strings.HasSuffix(s, ":"+port) {
			return true
		}
	}
	return false
}

func hostIn(host string, hosts []string) bool {
	for _, h := range hosts {
		h = strings.ToLower(h)
		if h == host || strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]) && !strings.Contains(strings.TrimSuffix(host, h[1:]), ".") {
			return true
		}
	}
	return false
}

// matchHosts are the host matchers of a route's match sets.
func matchHosts(v any) []string {
	sets, _ := v.([]any)
	var out []string
	for _, s := range sets {
		m, _ := s.(map[string]any)
		hs, _ := m["host"].([]any)
		for _, h := range hs {
			if str, ok := h.(string); ok {
				out = append(out, str)
			}
		}
	}
	return out
}
