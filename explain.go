package chromaauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/lookup"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// explainer decides requests as one chroma_auth handler would, for `caddy
// chroma-auth explain` and `caddy chroma-auth test`: the same files, the
// same authentication, the same decide. Nothing is forwarded; the only
// requests it makes are the collection lookups a by-id decision needs, to
// the upstream it was given (none without one).
type explainer struct {
	h        *ChromaAuth
	pol      *config.Policy
	upstream *url.URL // nil: the lookups are not made
	client   *http.Client
}

// openExplainer loads a handler's JSON as Provision would (files, RBAC,
// JWT keys) without starting any watcher, limiter or metric.
func openExplainer(raw json.RawMessage, upstreamURL string) (cli.Explainer, error) {
	cfg, err := config.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	h := &ChromaAuth{Handler: *cfg}
	e := &explainer{h: h, client: &http.Client{Timeout: 10 * time.Second}}
	if upstreamURL != "" {
		u, err := url.Parse(upstreamURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--upstream %q: want Chroma's URL, such as http://127.0.0.1:8000", upstreamURL)
		}
		e.upstream = u
	}
	h.logger = zap.NewNop()
	h.ApplyDefaults()
	h.ReloadInterval = -1
	if e.pol, _, err = h.prepare(os.LookupEnv); err != nil {
		return nil, err
	}
	h.policy = new(atomic.Pointer[config.Policy])
	h.policy.Store(e.pol)
	h.auth = providers.NewAuthenticator(e.pol.Creds, providers.Options{MaxConcurrentBcrypt: 1})
	h.owners = authz.NewOwners(lookup.MaxOwners)
	h.listings = authz.NewListingCache(h.listingTTL())
	h.resolver = authz.NewResolver(h.owners)
	if err := h.provisionJWT(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *explainer) Close() { e.h.cleanupJWT() }

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
	if as.User != "" {
		if _, ok := e.pol.Creds.UserIdentity(as.User); !ok {
			return x, fmt.Errorf("user %q: no credential file of this chroma_auth names it", as.User)
		}
	}
	if authz.IsPreflight(r) || e.h.isPublic(r) {
		x.Decision = authz.Decision{Verdict: authz.VerdictAllowed, Status: http.StatusOK, Public: true}
		return x, nil
	}
	id, reason, err := e.identify(r, as)
	if err != nil {
		return x, err
	}
	if id == nil {
		x.Decision = unauthenticated(reason)
		return x, nil
	}
	vars := &requestVars{id: id, role: e.pol.RoleOf(id), r: r}
	lookups := &lookupLog{}
	f := lookup.Fetcher{Owners: e.h.owners, R: r, Next: caddyhttp.HandlerFunc(func(w http.ResponseWriter, sub *http.Request) error {
		return e.lookup(w, sub, lookups)
	})}
	owners := &lookup.Resolver{Shared: e.h.resolver, Fetcher: f}
	x.Decision = e.h.decide(r, e.pol, vars, owners)
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
// gateway makes of the credential as a client would send it.
func (e *explainer) identify(r *http.Request, as cli.As) (*providers.Identity, string, error) {
	if as.User != "" {
		id, ok := e.pol.Creds.UserIdentity(as.User)
		if !ok {
			return nil, "", fmt.Errorf("user %q: no credential file of this chroma_auth names it", as.User)
		}
		return id, "", nil
	}
	tok := as.Token + as.Key + as.JWT
	if as.JWT != "" && e.h.jwt == nil {
		return nil, "", errors.New("--jwt: this chroma_auth has no jwt block")
	}
	if e.h.tokenHeader == headerAuthorization {
		r.Header.Set(headerAuthorization, "Bearer "+tok)
	} else {
		r.Header.Set(e.h.tokenHeader, tok)
	}
	id, reason, _ := e.h.authenticate(r, e.pol.Creds)
	e.h.stripCredentials(r)
	return id, reason, nil
}

// unauthenticated is the decision on a credential that did not pass, as
// reject makes it.
func unauthenticated(reason string) authz.Decision {
	d := authz.Decision{Verdict: authz.VerdictUnauthenticated, Status: http.StatusUnauthorized, Reason: reason}
	switch reason {
	case reasonBusy, reasonJWTUnavailable:
		d.Verdict, d.Status = authz.VerdictUnavailable, http.StatusServiceUnavailable
	case reasonRateLimited:
		d.Verdict, d.Status = authz.VerdictLimited, http.StatusTooManyRequests
	}
	return d
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

// explainCommand is `caddy chroma-auth explain`; see cli.RunExplain.
func explainCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "explain --config <Caddyfile> (--user <name> | --token <t> | --key <k> | --jwt <t>) <METHOD> <path>",
		Short: "Prints the gateway's decision on one request and why; exits 0 allowed, 1 refused, 2 usage or config error",
		Long: `
Loads the chroma_auth handler of the config (the one serving --site when
there are several) with its files, as the gateway would, and decides one
request of the caller: a user of its credential files (no password
needed), or a token, API key or JWT checked as the gateway checks it. It
prints the decision and why: the caller's entry (file and line), its scope,
its role and the action, the collection grant and level, the check that
refused. Nothing is sent anywhere, but with --upstream the collection
lookups a by-id decision needs go to that Chroma; without it, explain says
what it could not know. No secret is printed.
`,
		Args: cobra.ArbitraryArgs,
		RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, args []string) (int, error) {
			return cli.RunExplain(stdio(cmd), cli.ExplainOptions{
				Config: fs.String("config"), Adapter: fs.String("adapter"), Site: fs.String("site"),
				Upstream: fs.String("upstream"), Body: fs.String("body"), Args: args, Open: openExplainer,
				As: cli.As{User: fs.String("user"), Token: fs.String("token"), Key: fs.String("key"), JWT: fs.String("jwt")},
			})
		}),
	}
	explainFlags(c)
	c.Flags().StringP("user", "u", "", "A user of the credential files")
	c.Flags().String("token", "", "A token, as the client sends it")
	c.Flags().String("key", "", "An API key")
	c.Flags().String("jwt", "", "A JSON Web Token")
	c.Flags().String("body", "", "The request's JSON body")
	return c
}

// testCommand is `caddy chroma-auth test`; see cli.RunPolicyTest.
func testCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "test --config <Caddyfile> <cases.yaml>",
		Short: "Runs policy tests: exits 0 when every case holds, 1 naming each that does not, 2 on a usage or config error",
		Long: `
Decides every case of the cases file as explain does:

  cases:
    - name: alice reads docs
      as: {user: alice}            # or token, key, jwt ({env.VAR} read)
      request: {method: POST, path: /api/v2/.../get, body: {limit: 1}}
      expect: allow                # allow, deny (401 or 403), or a status
`,
		Args: cobra.ArbitraryArgs,
		RunE: runE(func(cmd *cobra.Command, fs caddycmd.Flags, args []string) (int, error) {
			return cli.RunPolicyTest(stdio(cmd), cli.TestOptions{
				Config: fs.String("config"), Adapter: fs.String("adapter"), Site: fs.String("site"),
				Upstream: fs.String("upstream"), Args: args, Open: openExplainer,
			})
		}),
	}
	explainFlags(c)
	return c
}

func explainFlags(c *cobra.Command) {
	c.Flags().StringP("config", "c", "", "Configuration file (required)")
	c.Flags().StringP("adapter", "a", "", "Name of config adapter (default: caddyfile for a file named Caddyfile*, else JSON)")
	c.Flags().String("site", "", "The site whose chroma_auth decides (host, host:port or :port), when the config has several")
	c.Flags().String("upstream", "", "Chroma's URL: ask it where collections named by id live")
}
