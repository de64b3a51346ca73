package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// mapResolver answers owners from a map; an id it lacks is not in the
// database asked, and err (when set) is every answer.
type mapResolver struct {
	owners map[string]Owner
	err    error
	asked  int
}

func (m *mapResolver) Resolve(_ context.Context, tenant, database, id string) (Owner, error) {
	m.asked++
	if m.err != nil {
		return Owner{}, m.err
	}
	w, ok := m.owners[id]
	if !ok || w.Tenant != tenant || w.Database != database {
		return Owner{}, deny("collection %s is not in tenant %s, database %s", shown(id), shown(tenant), shown(database))
	}
	return w, nil
}

func decide(t *testing.T, rbac *RBAC, id *providers.Identity, method, path, body string, owners OwnerResolver) Decision {
	t.Helper()
	rt := classify(t, method, path, body)
	return Decide(context.Background(), rbac, id, &rt, owners)
}

func TestDecideVerdicts(t *testing.T) {
	rbac, err := ParseRBAC("authz.yaml", []byte(rbacYAML))
	require.NoError(t, err)
	bot := botIdentity(t)
	bot.Source = "users.yaml:7"
	reader := &providers.Identity{User: "reader", Tenant: "*", Databases: []string{"*"}, Source: "server.htpasswd:2"}
	other := "0b8c6f1e-2f4a-4c1e-9d7e-3a1b2c3d4e5f"
	owners := &mapResolver{owners: map[string]Owner{
		cid:   {Tenant: "acme", Database: "prod", Name: "team-a"},
		other: {Tenant: "globex", Database: "prod", Name: "secret"},
	}}

	// RBAC refuses: the rule names the role, the action and the file.
	d := decide(t, rbac, reader, "POST", tp+"/collections/"+cid+"/add", `{"ids":["a"]}`, owners)
	assert.Equal(t, VerdictRefused, d.Verdict)
	assert.Equal(t, http.StatusForbidden, d.Status)
	assert.Equal(t, "collection:add", d.Reason)
	assert.Equal(t, Rule{Check: "rbac", Entry: "server.htpasswd:2", Role: "reader", RBAC: "authz.yaml", Action: "collection:add", Tenant: "*", Databases: []string{"*"}}, d.Rule)
	assert.Zero(t, owners.asked, "a request the role refuses costs no lookup")

	// Scope refuses.
	d = decide(t, nil, bot, "GET", "/api/v2/tenants/globex/databases/prod/collections/docs", "", owners)
	assert.Equal(t, VerdictRefused, d.Verdict)
	assert.Equal(t, "scope", d.Rule.Check)
	assert.Contains(t, d.Reason, `tenant "globex"`)

	// A grant refuses a name: the rule names the grant and the levels.
	d = decide(t, nil, bot, "DELETE", tp+"/collections/team-x", "", owners)
	assert.Equal(t, VerdictRefused, d.Verdict)
	assert.Equal(t, "grant", d.Rule.Check)
	assert.Equal(t, "team-x", d.Rule.Collection)
	assert.Equal(t, "team-*", d.Rule.Grant)
	assert.Equal(t, providers.LevelWrite, d.Rule.Level)
	assert.Equal(t, providers.LevelAdmin, d.Rule.Need)

	// A by-id collection of the caller's database, within its grants:
	// allowed, with the name resolved and the grant that allowed it.
	d = decide(t, nil, bot, "POST", cp+"/add", `{"ids":["a"]}`, owners)
	assert.Equal(t, VerdictAllowed, d.Verdict, d.Reason)
	assert.Equal(t, http.StatusOK, d.Status)
	assert.Equal(t, "team-a", d.Route.CollectionName)
	assert.Equal(t, Rule{Entry: "users.yaml:7", Action: "collection:add", Collection: "team-a", Grant: "team-*", Level: providers.LevelWrite, Need: providers.LevelWrite, Tenant: "acme", Databases: []string{"prod"}}, d.Rule)
	assert.Equal(t, []Touched{{ID: cid, Name: "team-a"}}, d.Collections())

	// Another tenant's id through the caller's own path: refused as absent.
	d = decide(t, nil, bot, "POST", tp+"/collections/"+other+"/get", `{}`, owners)
	assert.Equal(t, VerdictRefused, d.Verdict)
	assert.Equal(t, "owner", d.Rule.Check)
	assert.NotContains(t, d.Reason, "secret")

	// No answer upstream: unavailable, never a refusal.
	down := &mapResolver{err: fmt.Errorf("%w: status 502", ErrUnavailable)}
	d = decide(t, nil, bot, "POST", cp+"/get", `{}`, down)
	assert.Equal(t, VerdictUnavailable, d.Verdict)
	assert.Equal(t, http.StatusServiceUnavailable, d.Status)
	assert.ErrorIs(t, d.Err, ErrUnavailable)
	d = decide(t, nil, bot, "POST", cp+"/get", `{}`, nil)
	assert.Equal(t, VerdictUnavailable, d.Verdict, "no resolver: nothing could be known")

	// Listing with grants: answered filtered.
	d = decide(t, nil, bot, "GET", tp+"/collections", "", owners)
	assert.Equal(t, VerdictAllowed, d.Verdict)
	assert.True(t, d.Filtered)
}

func TestDecideTeaches(t *testing.T) {
	bot := botIdentity(t)
	owners := &mapResolver{owners: map[string]Owner{cid: {Tenant: "acme", Database: "prod", Name: "bot-a"}}}
	d := decide(t, nil, bot, "PUT", cp, `{"new_name":"bot-b"}`, owners)
	require.Equal(t, VerdictAllowed, d.Verdict, d.Reason)
	assert.Equal(t, Teach{RenameID: cid, RenameTo: "bot-b"}, d.Teach)
	assert.Equal(t, []Touched{{ID: cid, Name: "bot-a"}, {Name: "bot-b", New: true}}, d.Collections())

	d = decide(t, nil, bot, "GET", tp+"/collections/docs", "", owners)
	assert.Equal(t, Teach{Owners: true}, d.Teach, "a scoped caller learns owners from a get")
	d = decide(t, nil, admin, "GET", tp+"/collections/docs", "", nil)
	assert.Equal(t, Teach{}, d.Teach, "an unscoped caller does not")
	d = decide(t, nil, admin, "PUT", cp, `{"new_name":"x"}`, nil)
	assert.Equal(t, Teach{RenameID: cid, RenameTo: "x"}, d.Teach, "any caller's rename is recorded")
}

func TestDecideWithoutRoute(t *testing.T) {
	assert.False(t, NeedsRoute(nil, admin))
	rbac, err := ParseRBAC("authz.yaml", []byte(rbacYAML))
	require.NoError(t, err)
	assert.True(t, NeedsRoute(rbac, admin))
	assert.True(t, NeedsRoute(nil, acmeProd))
	d := Decide(context.Background(), nil, admin, nil, nil)
	assert.Equal(t, VerdictAllowed, d.Verdict)
	assert.Nil(t, d.Collections())
}

func TestBadBodyDecision(t *testing.T) {
	d := BadBody(admin, nil, fmt.Errorf("x: %w", ErrBodyTooLarge))
	assert.Equal(t, VerdictBadBody, d.Verdict)
	assert.Equal(t, http.StatusRequestEntityTooLarge, d.Status)
	d = BadBody(admin, nil, errors.New("unreadable"))
	assert.Equal(t, http.StatusBadRequest, d.Status)
	assert.Equal(t, "bad_body", d.Verdict.String())
	assert.Equal(t, "none", Verdict(0).String())
	assert.Equal(t, "none", Verdict(200).String())
}
