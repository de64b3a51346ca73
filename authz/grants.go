package authz

import (
	"fmt"
	"strings"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
)

// needs is the collection access each action needs from a caller whose
// identity has collection grants (providers.Grants).
var needs = map[string]providers.Level{
	ActionGetCollection: providers.LevelRead, ActionGetCollectionByCRN: providers.LevelRead,
	ActionGet: providers.LevelRead, ActionQuery: providers.LevelRead,
	ActionSearch: providers.LevelRead, ActionCount: providers.LevelRead,
	ActionCountForks: providers.LevelRead,

	ActionAdd: providers.LevelWrite, ActionUpdate: providers.LevelWrite,
	ActionUpsert: providers.LevelWrite, ActionDelete: providers.LevelWrite,

	ActionCreateCollection: providers.LevelAdmin, ActionGetOrCreateCollection: providers.LevelAdmin,
	ActionUpdateCollection: providers.LevelAdmin, ActionDeleteCollection: providers.LevelAdmin,
	ActionForkCollection: providers.LevelAdmin, ActionCreateAttachedFunction: providers.LevelAdmin,
	ActionRemoveAttachedFunction: providers.LevelAdmin,
}

// databaseReads are the database- and tenant-level actions a
// collection-restricted caller keeps: they change nothing. Listing and
// counting collections are answered filtered (Filtered).
var databaseReads = map[string]bool{
	ActionGetTenant: true, ActionGetDatabase: true, ActionListDatabases: true,
	ActionListCollections: true, ActionCountCollections: true,
}

// Filtered reports whether the route lists or counts collections and the
// caller has collection grants: the gateway must answer it from the
// collections the caller may read.
func Filtered(id *providers.Identity, rt Route) bool {
	return id.Collections != nil && (rt.Action == ActionListCollections || rt.Action == ActionCountCollections)
}

// need is the highest access the route's actions need of its collection.
func need(rt Route) providers.Level {
	n := needs[rt.Action]
	for _, a := range rt.Extra {
		n = max(n, needs[a])
	}
	return n
}

// CheckGrants checks what the route names by name against the caller's
// collection grants: the path's collection on by-name and CRN routes, and
// a name the body asks for (a collection to create, the new name of a
// rename or a fork, the output of an attached function), which needs
// admin. A collection the route names by id is checked once resolved
// (CheckGrantsOwner). Callers without grants pass. It returns nil or a
// *Denied whose reason names the collection the caller itself named and
// the level missing, never another collection.
func CheckGrants(id *providers.Identity, rt Route) error {
	g := id.Collections
	if g == nil || rt.Public || rt.Identity || rt.Action == "" {
		return nil
	}
	if _, onCollection := needs[rt.Action]; !onCollection {
		if (rt.Action == ActionListCollections || rt.Action == ActionCountCollections) && !strings.HasPrefix(rt.Name, "v2 ") {
			return deny("%s of the v1 API cannot be filtered; use the v2 API", rt.Action)
		}
		if databaseReads[rt.Action] {
			return nil
		}
		return deny("%s is not allowed to a user limited to some collections", rt.Action)
	}
	if rt.Action == ActionCreateCollection || rt.Action == ActionGetOrCreateCollection {
		return checkName(g, rt.NewName, providers.LevelAdmin)
	}
	if rt.Collection != "" && !rt.CollectionByID {
		if err := checkName(g, rt.Collection, need(rt)); err != nil {
			return err
		}
	}
	if rt.NewName != "" {
		return checkName(g, rt.NewName, providers.LevelAdmin)
	}
	return nil
}

// CheckGrantsOwner checks a collection the route named by id, now
// resolved to its owner: the path's collection needs what the route's
// actions need, a collection id in the body (the input of an attached
// function) needs read. The reason names the id, not the name: the caller
// may not know it; the log gets both (Denied.Detail).
func CheckGrantsOwner(id *providers.Identity, rt Route, collectionID string, w Owner, inBody bool) error {
	g := id.Collections
	if g == nil {
		return nil
	}
	n := need(rt)
	if inBody {
		n = providers.LevelRead
	}
	if have := g.Level(w.Name); w.Name == "" || have < n {
		d := &Denied{Reason: "collection " + shown(collectionID) + " needs " + n.String() + " access", Collection: w.Name, Need: n}
		if have == providers.LevelNone {
			// A collection the caller may not see answers as an id that
			// does not exist there (Resolver.Resolve): no existence oracle.
			d.Reason = "collection " + shown(collectionID) + " is not in tenant " + shown(w.Tenant) + ", database " + shown(w.Database)
		}
		d.Detail = "collection " + shown(w.Name) + " (id " + collectionID + ") needs " + n.String() + ", the user has " + have.String()
		return d
	}
	return nil
}

func checkName(g *providers.Grants, name string, n providers.Level) error {
	if have := g.Level(name); name == "" || have < n {
		return &Denied{Reason: fmt.Sprintf("collection %s needs %s access", shown(name), n), Collection: name, Need: n}
	}
	return nil
}
