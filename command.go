package chromaauth

import (
	"encoding/json"
	"net/http"
	"os"
	"sync/atomic"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"go.uber.org/zap"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/cli"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/config"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/explain"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

func init() {
	caddycmd.RegisterCommand(cli.Command(openExplainer))
}

// openExplainer is the explainer of `caddy chroma-auth explain` and
// `test` (see explain.Open), judging with this handler's own steps.
func openExplainer(raw json.RawMessage, upstream string) (cli.Explainer, error) {
	return explain.Open(raw, upstream, openJudge)
}

// judge is a handler loaded for explain and test: its authenticate and
// decide, with the policy it loaded (see explain.Judge).
type judge struct {
	h   *ChromaAuth
	pol *config.Policy
}

// openJudge loads cfg as Provision would (files, RBAC, JWT keys) without
// starting any watcher, limiter or metric.
func openJudge(cfg *config.Handler) (explain.Judge, error) {
	h := &ChromaAuth{Handler: *cfg, logger: zap.NewNop()}
	h.ApplyDefaults()
	h.ReloadInterval = -1
	pol, _, err := h.prepare(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	h.policy = new(atomic.Pointer[config.Policy])
	h.policy.Store(pol)
	h.auth = providers.NewAuthenticator(pol.Creds, providers.Options{MaxConcurrentBcrypt: 1})
	if err := h.provisionJWT(); err != nil {
		return nil, err
	}
	return &judge{h: h, pol: pol}, nil
}

func (j *judge) Policy() *config.Policy { return j.pol }
func (j *judge) TokenHeader() string    { return j.h.tokenHeader }
func (j *judge) JWT() bool              { return j.h.jwt != nil }
func (j *judge) Close()                 { j.h.cleanupJWT() }

func (j *judge) Public(r *http.Request) bool { return authz.IsPreflight(r) || j.h.isPublic(r) }

func (j *judge) Authenticate(r *http.Request) (*providers.Identity, authz.Decision) {
	id, reason, _, _ := j.h.authenticate(r, j.pol.Creds)
	j.h.stripCredentials(r)
	if id == nil {
		return nil, unauthenticated(reason)
	}
	return id, authz.Decision{}
}

func (j *judge) Decide(r *http.Request, id *providers.Identity, owners authz.OwnerResolver) authz.Decision {
	return j.h.decide(r, j.pol, &requestVars{id: id, role: j.pol.RoleOf(id), r: r}, owners)
}
