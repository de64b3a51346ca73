package authz

import (
	"context"
	"errors"
	"net/http"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// Verdict is what the gateway does with a request.
type Verdict uint8

// The verdicts. The zero Verdict is none: no decision was taken.
const (
	// VerdictAllowed: the request goes on to Chroma (or is answered by the
	// gateway for the caller: the identity endpoint, a filtered listing).
	VerdictAllowed Verdict = iota + 1
	// VerdictUnauthenticated: no valid credential (401).
	VerdictUnauthenticated
	// VerdictRefused: authenticated, but the scope, the role or the grants
	// do not let the caller do this (403).
	VerdictRefused
	// VerdictLimited: too many failed attempts from the address (429).
	VerdictLimited
	// VerdictUnavailable: the gateway could not decide, because something
	// it needed did not answer (503 with Retry-After).
	VerdictUnavailable
	// VerdictBadBody: the body the decision needed could not be read (400,
	// 413).
	VerdictBadBody
)

var verdictNames = [...]string{"none", "allowed", "unauthenticated", "refused", "limited", "unavailable", "bad_body"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "none"
}

// Decision is the one answer to "may this request go on", as an Envoy
// ext_authz CheckResponse gives it: the verdict and the status, the reason,
// the rule that decided, and what Chroma's answer should teach the
// gateway. The gateway acts on it (answers, or forwards) and records it
// once (audit line, metrics, denial log, placeholders); `caddy chroma-auth
// explain` prints it.
type Decision struct {
	Verdict Verdict
	// Status is the HTTP status the gateway answers with; for an allowed
	// request forwarded upstream, 200 until Chroma answers.
	Status int
	// Reason is why: for a refusal, the text the client's message carries
	// (it names the action, scope or collection the caller asked for, never
	// a credential); for an unauthenticated, limited or unavailable
	// request, the reason label of the metrics and the log.
	Reason string
	// Detail says more, for the log only (the name behind a collection id
	// the caller may not see).
	Detail string
	// Err is the error behind an unavailable or bad-body verdict.
	Err error

	// Identity is the caller (nil before authentication).
	Identity *providers.Identity
	// Route is the classified request (nil when the decision did not
	// need it: a caller of everything without RBAC).
	Route *Route
	// Rule is the rule that decided.
	Rule Rule
	// Public: a public route or a CORS preflight, which needs no
	// credential (no Identity, no Route).
	Public bool
	// Filtered: the gateway answers the listing itself, from the
	// collections the caller may read.
	Filtered bool
	// Teach is what Chroma's answer teaches the gateway.
	Teach Teach
	// Lookups, when set, starts the lookups that name the collections the
	// request addresses by id for its audit line, off the request's path
	// (see Namer); the gateway sets it when the audit is on.
	Lookups Lookups
	// Client is the client address the request was counted against when
	// it was authenticated ("" when that did not need it): what its
	// audit line names.
	Client string

	bodyNames []string // names of Route.BodyIDs, once resolved
}

// Rule is what decided: which check, and the configuration it read.
type Rule struct {
	// Check is the check that refused ("scope", "rbac", "grant",
	// "owner"), or "" when every check passed.
	Check string
	// Entry is where the identity was configured: "users.yaml:12" (see
	// providers.Identity.Source).
	Entry string
	// Role is the caller's role (RBAC's, else its entry's), and RBAC the
	// RBAC file ("" when RBAC is off).
	Role, RBAC string
	// Action is the action RBAC judged: the refused one, else the
	// route's.
	Action string
	// Collection is the collection name a grant was judged on, Grant the
	// matching grant's pattern ("" when none matches, "*" when the caller
	// has no grants: every collection), Level what it gives and Need what
	// the route needs.
	Collection, Grant string
	Level, Need       providers.Level
	// Tenant and Databases are the caller's scope.
	Tenant    string
	Databases []string
}

// Teach is what Chroma's answer to an allowed request teaches the gateway.
type Teach struct {
	// Owners: the answer names collections with their tenant, database and
	// name (creating, getting, forking or listing them, for a scoped
	// caller); learn them, so the next request by such an id needs no
	// lookup.
	Owners bool
	// RenameID is renamed RenameTo when Chroma accepts the update of
	// collection RenameID. RenameTo is "" when the gateway did not read the
	// new name (an update without new_name, or a body it never read): the
	// name it knows is then looked up again before a grant judges by it.
	RenameID, RenameTo string
}

// Touched is a collection a request touches.
type Touched struct {
	// ID is set when the request names the collection by id; Name when the
	// request names it, or the gateway knows it ("" otherwise).
	ID, Name string
	// New marks a name the body asks for (a collection to create, the new
	// name of a rename or a fork); InBody an id the body names.
	New, InBody bool
}

// OwnerResolver finds where a collection the request names by id lives:
// its tenant, database and name. Its errors are a *Denied (no such
// collection there) or anything else (the decision is unavailable).
type OwnerResolver interface {
	Resolve(ctx context.Context, tenant, database, id string) (Owner, error)
}

// NeedsRoute reports whether deciding for id needs the request
// classified: not for a caller of every tenant, database and collection
// when RBAC is off (every route is allowed to it).
func NeedsRoute(rbac *RBAC, id *providers.Identity) bool {
	return rbac != nil || id.Scoped()
}

// Decide judges a classified request (rt; nil when NeedsRoute is false)
// of id by the policy snapshot (rbac, nil when RBAC is off): first the
// checks that need nothing but the request (scope, RBAC, grants on
// names), so a request the role already refuses costs no upstream call;
// then, for a scoped caller, the collections the request names by id,
// which owners resolves. It sets rt.CollectionName of a by-id collection
// it resolves.
func Decide(ctx context.Context, rbac *RBAC, id *providers.Identity, rt *Route, owners OwnerResolver) Decision {
	d := Decision{Verdict: VerdictAllowed, Status: http.StatusOK, Identity: id, Route: rt}
	d.Rule = Rule{Entry: id.Source, Role: id.Role, Tenant: id.Tenant, Databases: id.Databases}
	if rbac != nil {
		d.Rule.Role, d.Rule.RBAC = rbac.RoleOf(id), rbac.Name()
	}
	if rt == nil || rt.Identity {
		return d
	}
	d.Rule.Action = rt.Action
	if err := CheckScope(id, *rt); err != nil {
		return d.refused("scope", err)
	}
	if rbac != nil {
		if err := rbac.Authorize(id, *rt); err != nil {
			return d.refused("rbac", err)
		}
	}
	if err := CheckGrants(id, *rt); err != nil {
		return d.refused("grant", err)
	}
	if id.Scoped() && (rt.CollectionByID || len(rt.BodyIDs) > 0) {
		if err := d.checkIDs(ctx, id, rt, owners); err != nil {
			return d.refused("owner", err)
		}
	}
	if id.Collections != nil && !rt.CollectionByID {
		switch {
		case rt.Action == ActionCreateCollection || rt.Action == ActionGetOrCreateCollection:
			d.Rule.Collection = rt.NewName
		case rt.Collection != "":
			d.Rule.Collection = rt.Collection
		}
	}
	if d.Rule.Collection != "" {
		d.Rule.Grant, d.Rule.Level = id.Collections.Match(d.Rule.Collection)
		d.Rule.Need = need(*rt)
	}
	if Filtered(id, *rt) {
		d.Filtered = true
		return d
	}
	switch {
	case rt.Action == ActionUpdateCollection:
		// Any update: a rename the gateway did not read (or a parser that
		// reads the body otherwise than Chroma) must not leave the old
		// name in force.
		d.Teach.RenameID, d.Teach.RenameTo = rt.Collection, rt.NewName
	case id.Scoped() && LearnsOwners(rt.Action):
		d.Teach.Owners = true
	}
	return d
}

// checkIDs makes sure every collection the route names by id (in its
// path, or in its body) lives in the tenant and database of the path, and
// that the caller's grants cover it. Chroma 1.x looks such collections up
// by id alone, so without this a user of one tenant who learns another
// tenant's collection id could use it through its own path.
func (d *Decision) checkIDs(ctx context.Context, id *providers.Identity, rt *Route, owners OwnerResolver) error {
	if owners == nil {
		return ErrUnavailable
	}
	if rt.CollectionByID {
		w, err := owners.Resolve(ctx, rt.Tenant, rt.Database, rt.Collection)
		if err != nil {
			return err
		}
		rt.CollectionName = w.Name
		if err := CheckGrantsOwner(id, *rt, rt.Collection, w, false); err != nil {
			return hiddenAlike(ctx, owners, id, rt.Tenant, rt.Database, rt.Collection, w, err)
		}
		if id.Collections != nil {
			d.Rule.Collection = w.Name
		}
	}
	for _, bodyID := range rt.BodyIDs {
		w, err := owners.Resolve(ctx, rt.Tenant, rt.Database, bodyID)
		if err != nil {
			return err
		}
		d.bodyNames = append(d.bodyNames, w.Name)
		if err := CheckGrantsOwner(id, *rt, bodyID, w, true); err != nil {
			return hiddenAlike(ctx, owners, id, rt.Tenant, rt.Database, bodyID, w, err)
		}
	}
	return nil
}

// refused turns the *Denied of check into the decision; any other error
// makes it unavailable.
func (d Decision) refused(check string, err error) Decision {
	var den *Denied
	if !errors.As(err, &den) {
		return d.unavailable(err)
	}
	d.Verdict, d.Status, d.Reason, d.Detail = VerdictRefused, http.StatusForbidden, den.Reason, den.Detail
	d.Rule.Check = check
	if den.Action != "" {
		d.Rule.Action = den.Action
	}
	if den.Collection != "" || den.Need != providers.LevelNone {
		d.Rule.Collection, d.Rule.Need = den.Collection, den.Need
		d.Rule.Grant, d.Rule.Level = d.Identity.Collections.Match(den.Collection)
	}
	return d
}

func (d Decision) unavailable(err error) Decision {
	d.Verdict, d.Status, d.Reason, d.Err = VerdictUnavailable, http.StatusServiceUnavailable, "lookup_unavailable", err
	return d
}

// Unavailable is the decision on a request the gateway could not decide
// (or answer, for a filtered listing) because the upstream did not answer
// a lookup it needed.
func Unavailable(id *providers.Identity, rt *Route, err error) Decision {
	return Decision{Identity: id, Route: rt}.unavailable(err)
}

// BadBody is the decision on a request whose body the decision needed
// but could not use: too large (413), unreadable or not what the route
// takes (400).
func BadBody(id *providers.Identity, rt *Route, err error) Decision {
	d := Decision{Verdict: VerdictBadBody, Status: http.StatusBadRequest, Reason: "bad_body", Detail: err.Error(), Err: err, Identity: id, Route: rt}
	if errors.Is(err, ErrBodyTooLarge) {
		d.Status, d.Reason = http.StatusRequestEntityTooLarge, "body_too_large"
	}
	return d
}

// Collections are the collections the request touches: the path's (by
// name, or by id with its name once known), a name the body asks for, the
// ids the body names.
func (d *Decision) Collections() []Touched {
	rt := d.Route
	if rt == nil {
		return nil
	}
	var out []Touched
	switch {
	case rt.Collection == "":
	case rt.CollectionByID || rt.Unscoped:
		out = append(out, Touched{ID: rt.Collection, Name: rt.CollectionName})
	default:
		out = append(out, Touched{Name: rt.Collection})
	}
	if rt.NewName != "" {
		out = append(out, Touched{Name: rt.NewName, New: true})
	}
	for i, id := range rt.BodyIDs {
		t := Touched{ID: id, InBody: true}
		if i < len(d.bodyNames) {
			t.Name = d.bodyNames[i]
		}
		out = append(out, t)
	}
	return out
}

// LearnsOwners reports whether the answer to a route names collections
// with their tenant and database: creating, getting, forking or listing
// them.
func LearnsOwners(action string) bool {
	switch action {
	case ActionCreateCollection, ActionGetOrCreateCollection,
		ActionGetCollection, ActionForkCollection, ActionListCollections:
		return true
	}
	return false
}
