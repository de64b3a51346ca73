package authz

import (
	"encoding/json"
	"sort"
)

// Body appliers: they complete a route from its request body (see
// Route.ApplyBody). Each reads only the members it needs; a body that is
// not a JSON object, or a member of the wrong type, is ErrBadBody.

// createTenantBody: POST /api/v2/tenants names the new tenant.
func createTenantBody(rt *Route, body []byte) error {
	return nameInto(rt, body, &rt.Tenant)
}

// createDatabaseBody: POST .../databases names the new database.
func createDatabaseBody(rt *Route, body []byte) error {
	return nameInto(rt, body, &rt.Database)
}

// nameInto sets *dst to the body's "name", or marks the route Unscoped
// when the body names none (the upstream will refuse it anyway).
func nameInto(rt *Route, body []byte, dst *string) error {
	m, ok := object(body)
	if !ok {
		rt.Unscoped = true
		return badBody("%s: want a JSON object", rt.Name)
	}
	name, ok := str(m, "name")
	if !ok {
		rt.Unscoped = true
		return badBody("%s: name must be a string", rt.Name)
	}
	if name == "" {
		rt.Unscoped = true
		return nil
	}
	*dst = name
	return nil
}

// createCollectionBody: the new collection's name, and get_or_create.
func createCollectionBody(rt *Route, body []byte) error {
	m, ok := object(body)
	if !ok {
		return badBody("%s: want a JSON object", rt.Name)
	}
	name, ok := str(m, "name")
	if !ok {
		return badBody("%s: name must be a string", rt.Name)
	}
	rt.NewName = name
	if truthy(m["get_or_create"]) {
		rt.Action = ActionGetOrCreateCollection
	}
	return nil
}

// newNameBody reads the optional new_name of a collection update.
func newNameBody(rt *Route, body []byte) error {
	return memberName(rt, body, "new_name", false)
}

// forkBody reads the required new_name of a fork.
func forkBody(rt *Route, body []byte) error {
	return memberName(rt, body, "new_name", true)
}

// attachBody reads the output collection an attached function writes to.
func attachBody(rt *Route, body []byte) error {
	return memberName(rt, body, "output_collection", true)
}

func memberName(rt *Route, body []byte, key string, required bool) error {
	m, ok := object(body)
	if !ok {
		return badBody("%s: want a JSON object", rt.Name)
	}
	name, ok := str(m, key)
	if !ok || (required && name == "") {
		return badBody("%s: %s must be a collection name", rt.Name, key)
	}
	rt.NewName = name
	return nil
}

// addInputBody reads the collection id an attached function gets as a new
// input: it is checked like a collection id in the path.
func addInputBody(rt *Route, body []byte) error {
	m, ok := object(body)
	if !ok {
		return badBody("%s: want a JSON object", rt.Name)
	}
	id, ok := str(m, "input_collection_id")
	if !ok || id == "" {
		return badBody("%s: input_collection_id must be a collection id", rt.Name)
	}
	rt.BodyIDs = []string{id}
	return nil
}

// conditionalOps maps the operations of a conditional commit to the
// actions Chroma checks for them (rust/frontend/src/server.rs,
// conditional_operation_authz_action).
var conditionalOps = map[string]string{
	"add": ActionAdd, "update": ActionUpdate, "upsert": ActionUpsert, "delete": ActionDelete,
}

// conditionalCommitBody: every operation of the commit is an action of its
// own; a commit without operations is a read, as Chroma checks it.
func conditionalCommitBody(rt *Route, body []byte) error {
	m, ok := object(body)
	if !ok {
		return badBody("%s: want a JSON object", rt.Name)
	}
	var ops []json.RawMessage
	if raw, present := m["operations"]; !present || json.Unmarshal(raw, &ops) != nil {
		return badBody("%s: operations must be a list", rt.Name)
	}
	set := map[string]bool{}
	for _, raw := range ops {
		op, ok := object(raw)
		if !ok {
			return badBody("%s: an operation is not an object", rt.Name)
		}
		kind, ok := str(op, "operation")
		action := conditionalOps[kind]
		if !ok || action == "" {
			return badBody("%s: unknown operation", rt.Name)
		}
		set[action] = true
	}
	if len(set) == 0 {
		rt.Action = ActionGet
		return nil
	}
	actions := make([]string, 0, len(set))
	for a := range set {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	rt.Action, rt.Extra = actions[0], actions[1:]
	if len(rt.Extra) == 0 {
		rt.Extra = nil
	}
	return nil
}
