// Package explain decides requests as one chroma_auth handler would, for
// `caddy chroma-auth explain` and `caddy chroma-auth test`: the same files
// (config.Handler.Prepare), the same authentication and the same decide
// (the handler's own, as a Judge). Nothing is forwarded; the only requests
// it makes are the collection lookups a by-id decision needs, to the
// upstream it was given (none without one).
package explain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Judge is a handler loaded from a config, deciding as it does when it
// serves: the request path's own steps, not a copy of them.
type Judge interface {
	// Policy is the policy snapshot the judge decides by.
	Policy() *config.Policy
	// TokenHeader is the header the handler reads tokens from.
	TokenHeader() string
	// JWT reports whether the handler verifies JSON Web Tokens.
	JWT() bool
	// Public reports whether r passes without credentials (a public route
	// or a CORS preflight).
	Public(r *http.Request) bool
	// Authenticate checks the credential of r as the handler does: the
	// identity, or the decision on a credential that does not pass.
	Authenticate(r *http.Request) (*providers.Identity, authz.Decision)
	// Decide is the handler's decision on an authenticated request, owners
	// resolving the collections it names by id.
	Decide(r *http.Request, id *providers.Identity, owners authz.OwnerResolver) authz.Decision
	// Close stops what loading started (the JWT key refresh).
	Close()
}

// OpenJudge loads a handler from its config as Provision would, without
// starting any watcher, limiter or metric.
type OpenJudge func(*config.Handler) (Judge, error)

// explainer is a cli.Explainer over a Judge.
type explainer struct {
	j        Judge
	owners   *authz.Owners
	resolver *authz.Resolver
	upstream *url.URL // nil: the lookups are not made
	client   *http.Client
}

// Open loads a handler's JSON (see config.Decode) into an explainer that
// asks upstream (Chroma's URL; "" for none) what by-id decisions need.
func Open(raw json.RawMessage, upstreamURL string, open OpenJudge) (cli.Explainer, error) {
	cfg, err := config.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	e := &explainer{client: &http.Client{Timeout: 10 * time.Second}}
	if upstreamURL != "" {
		u, err := url.Parse(upstreamURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--upstream %q: want Chroma's URL, such as http://127.0.0.1:8000", upstreamURL)
		}
		e.upstream = u
	}
	if e.j, err = open(cfg); err != nil {
		return nil, err
	}
	e.owners = authz.NewOwners(lookup.MaxOwners)
	e.resolver = authz.NewResolver(e.owners)
	return e, nil
}

func (e *explainer) Close() { e.j.Close() }

// Explain decides req made with the credential of as.
func (e *explainer) Explain(ctx context.Context, as cli.As, req cli.Request) (cli.Explanation, error) {
	var x cli.Explanation
	r, err := http.NewRequestWithContext(ctx, req.Method, req.Path, bytes.NewReader(req.Body))
	if err != nil || r.URL.Host != "" || !strings.HasPrefix(req.Path, "/") {
		return x, fmt.Errorf("request %s %q: want a method and a path such as /api/v2/tenants/t/databases/d/collections", req.Method, req.Path)
	}
	r.RequestURI, r.RemoteAddr = r.URL.RequestURI(), "127.0.0.1:1"
	if len(req.Body) > 0 {
		r.Header.Set("Content-Type", "application/json")
	}
	pol := e.j.Policy()
	if as.User != "" {
		if _, ok := pol.Creds.UserIdentity(as.User); !ok {
			return x, fmt.Errorf("user %q: no credential file of this chroma_auth names it", as.User)
		}
	}
	if e.j.Public(r) {
		x.Decision = authz.Decision{Verdict: authz.VerdictAllowed, Status: http.StatusOK, Public: true}
		return x, nil
	}
	id, refused, err := e.identify(r, as)
	if err != nil {
		return x, err
	}
	if id == nil {
		x.Decision = refused
		return x, nil
	}
	lookups := &lookupLog{}
	f := lookup.Fetcher{Owners: e.owners, R: r, Next: caddyhttp.HandlerFunc(func(w http.ResponseWriter, sub *http.Request) error {
		return e.lookup(w, sub, lookups)
	})}
	x.Decision = e.j.Decide(r, id, &lookup.Resolver{Shared: e.resolver, Fetcher: f})
	if x.Route = x.Decision.Route; x.Route == nil {
		rt := authz.ClassifyPath(r.Method, r.URL) // a caller of everything: its path alone
		x.Route = &rt
	}
	if e.upstream == nil {
		x.Unknown = lookups.unknown()
	}
	return x, nil
}

// identify is the identity of as: a user's from the files, or what the
// gateway makes of the credential as a client would send it (the decision
// when it does not pass).
func (e *explainer) identify(r *http.Request, as cli.As) (*providers.Identity, authz.Decision, error) {
	if as.User != "" {
		id, ok := e.j.Policy().Creds.UserIdentity(as.User)
		if !ok {
			return nil, authz.Decision{}, fmt.Errorf("user %q: no credential file of this chroma_auth names it", as.User)
		}
		return id, authz.Decision{}, nil
	}
	tok := as.Token + as.Key + as.JWT
	if as.JWT != "" && !e.j.JWT() {
		return nil, authz.Decision{}, errors.New("--jwt: this chroma_auth has no jwt block")
	}
	if h := e.j.TokenHeader(); h == authz.HeaderAuthorization {
		r.Header.Set(h, "Bearer "+tok)
	} else {
		r.Header.Set(h, tok)
	}
	id, d := e.j.Authenticate(r)
	return id, d, nil
}

// lookup answers one collection lookup of the decision: from the
// upstream, or (without one) not at all, noting what was asked.
func (e *explainer) lookup(w http.ResponseWriter, sub *http.Request, log *lookupLog) error {
	if e.upstream == nil {
		log.add(sub.URL.Path)
		return errors.New("no --upstream to ask")
	}
	u := *e.upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + sub.URL.Path
	u.RawPath = ""
	if sub.URL.RawPath != "" {
		u.RawPath = strings.TrimSuffix(e.upstream.EscapedPath(), "/") + sub.URL.RawPath
	}
	u.RawQuery = sub.URL.RawQuery
	req, err := http.NewRequestWithContext(sub.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	_, err = io.Copy(w, io.LimitReader(resp.Body, lookup.MaxResponse))
	return err
}

// lookupLog is what the decision wanted to ask Chroma.
type lookupLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *lookupLog) add(p string) {
	l.mu.Lock()
	l.paths = append(l.paths, p)
	l.mu.Unlock()
}

func (l *lookupLog) unknown() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, p := range l.paths {
		out = append(out, "where the collection lives: the decision asks Chroma GET "+p+" (give --upstream <Chroma URL>)")
	}
	return out
}
