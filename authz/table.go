package authz

import (
	"net/http"
	"net/url"
	"strings"
)

// route builds a pattern from a path such as "/api/v2/tenants/{t}", where
// every "{…}" segment is a parameter.
func route(path string, methods map[string]handler) pattern {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "{}"
		}
	}
	return pattern{segs: segs, methods: methods}
}

type filler = func(*Route, []string, *url.URL)

func h(name, action string, fill filler) handler {
	return handler{name: name, action: action, fill: fill}
}

// hb is a handler whose route the body completes.
func hb(name, action string, fill filler, body func(*Route, []byte) error) handler {
	return handler{name: name, action: action, fill: fill, body: body}
}

func public(name string) map[string]handler {
	return map[string]handler{http.MethodGet: {name: name, public: true, fill: noScope}}
}

func identity(name string) map[string]handler {
	return map[string]handler{http.MethodGet: {name: name, identity: true, fill: noScope}}
}

func get(name, action string, fill filler) map[string]handler {
	return map[string]handler{http.MethodGet: h(name, action, fill)}
}

func post(name, action string, fill filler) map[string]handler {
	return map[string]handler{http.MethodPost: h(name, action, fill)}
}

func postb(name, action string, fill filler, body func(*Route, []byte) error) map[string]handler {
	return map[string]handler{http.MethodPost: hb(name, action, fill, body)}
}

const coll = "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}"

// v2Table is Chroma 1.x's v2 API, as rust/frontend/src/server.rs routes it
// in releases 1.0.0 to 1.5.9 (checked against each tag): routes a release
// does not have answer 404 there, and routes of releases after 1.5.9 are not
// Known, so scoped and RBAC callers are refused them until they are
// classified here. The tasks/create and tasks/delete routes of 1.2 (renamed
// attached functions in 1.3) are left out on purpose.
var v2Table = []pattern{
	route("/api/v2", public("v2 root")),
	route("/api/v2/healthcheck", public("v2 healthcheck")),
	route("/api/v2/heartbeat", public("v2 heartbeat")),
	route("/api/v2/version", public("v2 version")),
	route("/api/v2/pre-flight-checks", get("v2 pre_flight_checks", "", noScope)),
	route("/api/v2/auth/identity", identity("v2 get_user_identity")),
	route("/api/v2/reset", post("v2 reset", ActionReset, noScope)),
	route("/api/v2/collections/{crn}", get("v2 get_collection_by_crn", ActionGetCollectionByCRN, crnScope)),
	route("/api/v2/tenants", postb("v2 create_tenant", ActionCreateTenant, noScope, createTenantBody)),
	route("/api/v2/tenants/{tenant}", map[string]handler{
		http.MethodGet:   h("v2 get_tenant", ActionGetTenant, pathTenant),
		http.MethodPatch: h("v2 update_tenant", ActionUpdateTenant, pathTenant),
	}),
	route("/api/v2/tenants/{tenant}/databases", map[string]handler{
		http.MethodGet:  h("v2 list_databases", ActionListDatabases, pathTenant),
		http.MethodPost: hb("v2 create_database", ActionCreateDatabase, pathTenant, createDatabaseBody),
	}),
	route("/api/v2/tenants/{tenant}/databases/{database}", map[string]handler{
		http.MethodGet:    h("v2 get_database", ActionGetDatabase, pathTenantDB),
		http.MethodDelete: h("v2 delete_database", ActionDeleteDatabase, pathTenantDB),
	}),
	route("/api/v2/tenants/{tenant}/databases/{database}/collections", map[string]handler{
		http.MethodGet:  h("v2 list_collections", ActionListCollections, pathTenantDB),
		http.MethodPost: hb("v2 create_collection", ActionCreateCollection, pathTenantDB, createCollectionBody),
	}),
	route("/api/v2/tenants/{tenant}/databases/{database}/collections_count",
		get("v2 count_collections", ActionCountCollections, pathTenantDB)),
	route("/api/v2/tenants/{tenant}/databases/{database}/collections/by-id/{collection_id}",
		get("v2 get_collection_by_id", ActionGetCollection, pathCollectionByID)),
	route(coll, map[string]handler{
		http.MethodGet:    h("v2 get_collection", ActionGetCollection, pathCollection),
		http.MethodPut:    hb("v2 update_collection", ActionUpdateCollection, pathCollectionByID, newNameBody),
		http.MethodDelete: h("v2 delete_collection", ActionDeleteCollection, pathCollection),
	}),
	route(coll+"/fork", postb("v2 fork_collection", ActionForkCollection, pathCollectionByID, forkBody)),
	route(coll+"/fork_count", get("v2 fork_count", ActionCountForks, pathCollectionByID)),
	route(coll+"/add", post("v2 collection_add", ActionAdd, pathCollectionByID)),
	route(coll+"/update", post("v2 collection_update", ActionUpdate, pathCollectionByID)),
	route(coll+"/upsert", post("v2 collection_upsert", ActionUpsert, pathCollectionByID)),
	route(coll+"/delete", post("v2 collection_delete", ActionDelete, pathCollectionByID)),
	route(coll+"/get", post("v2 collection_get", ActionGet, pathCollectionByID)),
	route(coll+"/query", post("v2 collection_query", ActionQuery, pathCollectionByID)),
	route(coll+"/search", post("v2 collection_search", ActionSearch, pathCollectionByID)),
	route(coll+"/count", get("v2 collection_count", ActionCount, pathCollectionByID)),
	route(coll+"/indexing_status", get("v2 indexing_status", ActionCount, pathCollectionByID)),
	route(coll+"/conditional/get", post("v2 conditional_get", ActionGet, pathCollectionByID)),
	route(coll+"/conditional/commit", postb("v2 conditional_commit", ActionUpdate, pathCollectionByID, conditionalCommitBody)),
	route(coll+"/functions/attach", postb("v2 attach_function", ActionCreateAttachedFunction, pathCollectionByID, attachBody)),
	route(coll+"/functions/{function_name}", get("v2 get_attached_function", ActionGetCollection, pathCollectionByID)),
	route(coll+"/attached_functions/{name}/detach", post("v2 detach_function", ActionRemoveAttachedFunction, pathCollectionByID)),
	route(coll+"/attached_functions/{name}/add_input", postb("v2 add_attached_function_input", ActionCreateAttachedFunction, pathCollectionByID, addInputBody)),
	// Chroma 1.3 detached by attached-function id, outside any collection,
	// and resolved that id without the path's tenant and database: the
	// gateway cannot tie it to a scope (IDOnly).
	route("/api/v2/tenants/{tenant}/databases/{database}/attached_functions/{id}/detach",
		map[string]handler{http.MethodPost: {name: "v2 detach_function_by_id", action: ActionRemoveAttachedFunction, fill: pathTenantDB, idOnly: true}}),
}

// v1Table is the API of Chroma 0.4/0.5's Python server
// (chromadb/server/fastapi). Chroma 1.x answers all of it with 410 Gone.
var v1Table = []pattern{
	route("/api/v1", public("v1 root")),
	route("/api/v1/heartbeat", public("v1 heartbeat")),
	route("/api/v1/version", public("v1 version")),
	route("/api/v1/pre-flight-checks", get("v1 pre_flight_checks", "", noScope)),
	route("/api/v1/auth/identity", identity("v1 get_user_identity")),
	route("/api/v1/reset", post("v1 reset", ActionReset, noScope)),
	route("/api/v1/tenants", postb("v1 create_tenant", ActionCreateTenant, noScope, createTenantBody)),
	route("/api/v1/tenants/{tenant}", get("v1 get_tenant", ActionGetTenant, pathTenant)),
	route("/api/v1/databases", postb("v1 create_database", ActionCreateDatabase, v1CreateDatabase, createDatabaseBody)),
	route("/api/v1/databases/{database}", get("v1 get_database", ActionGetDatabase, v1GetDatabase)),
	route("/api/v1/collections", map[string]handler{
		http.MethodGet:  h("v1 list_collections", ActionListCollections, v1TenantDB),
		http.MethodPost: hb("v1 create_collection", ActionCreateCollection, v1TenantDB, createCollectionBody),
	}),
	route("/api/v1/count_collections", get("v1 count_collections", ActionCountCollections, v1TenantDB)),
	route("/api/v1/collections/{collection}", map[string]handler{
		http.MethodGet:    h("v1 get_collection", ActionGetCollection, v1Collection),
		http.MethodPut:    h("v1 update_collection", ActionUpdateCollection, v1ByID),
		http.MethodDelete: h("v1 delete_collection", ActionDeleteCollection, v1Collection),
	}),
	route("/api/v1/collections/{collection_id}/add", post("v1 add", ActionAdd, v1ByID)),
	route("/api/v1/collections/{collection_id}/update", post("v1 update", ActionUpdate, v1ByID)),
	route("/api/v1/collections/{collection_id}/upsert", post("v1 upsert", ActionUpsert, v1ByID)),
	route("/api/v1/collections/{collection_id}/get", post("v1 get", ActionGet, v1ByID)),
	route("/api/v1/collections/{collection_id}/delete", post("v1 delete", ActionDelete, v1ByID)),
	route("/api/v1/collections/{collection_id}/query", post("v1 query", ActionQuery, v1ByID)),
	route("/api/v1/collections/{collection_id}/count", get("v1 count", ActionCount, v1ByID)),
}
