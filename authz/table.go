package authz

import (
	"net/http"
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

func h(name, action string, fill func(*Route, []string, *http.Request) error) handler {
	return handler{name: name, action: action, fill: fill}
}

func public(name string) map[string]handler {
	return map[string]handler{http.MethodGet: {name: name, public: true, fill: noScope}}
}

func identity(name string) map[string]handler {
	return map[string]handler{http.MethodGet: {name: name, identity: true, fill: noScope}}
}

func get(name, action string, fill func(*Route, []string, *http.Request) error) map[string]handler {
	return map[string]handler{http.MethodGet: h(name, action, fill)}
}

func post(name, action string, fill func(*Route, []string, *http.Request) error) map[string]handler {
	return map[string]handler{http.MethodPost: h(name, action, fill)}
}

const coll = "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}"

// v2Table is Chroma 1.x's v2 API (rust/frontend/src/server.rs), plus the
// routes of the Python server's v2 API (by-id, attached function inputs) and
// of newer Chroma releases.
var v2Table = []pattern{
	route("/api/v2", public("v2 root")),
	route("/api/v2/healthcheck", public("v2 healthcheck")),
	route("/api/v2/heartbeat", public("v2 heartbeat")),
	route("/api/v2/version", public("v2 version")),
	route("/api/v2/pre-flight-checks", get("v2 pre_flight_checks", "", noScope)),
	route("/api/v2/auth/identity", identity("v2 get_user_identity")),
	route("/api/v2/reset", post("v2 reset", ActionReset, noScope)),
	route("/api/v2/collections/{crn}", get("v2 get_collection_by_crn", ActionGetCollectionByCRN, crnScope)),
	route("/api/v2/tenants", post("v2 create_tenant", ActionCreateTenant, bodyName(0))),
	route("/api/v2/tenants/{tenant}", map[string]handler{
		http.MethodGet:   h("v2 get_tenant", ActionGetTenant, pathTenant),
		http.MethodPatch: h("v2 update_tenant", ActionUpdateTenant, pathTenant),
	}),
	route("/api/v2/tenants/{tenant}/databases", map[string]handler{
		http.MethodGet:  h("v2 list_databases", ActionListDatabases, pathTenant),
		http.MethodPost: h("v2 create_database", ActionCreateDatabase, bodyName(1)),
	}),
	// A database by its id: the gateway cannot tell which database that
	// is, so it is a tenant-level request.
	route("/api/v2/tenants/{tenant}/databases/by-id/{database_id}",
		get("v2 get_database_by_id", ActionGetDatabase, pathTenant)),
	route("/api/v2/tenants/{tenant}/databases/{database}", map[string]handler{
		http.MethodGet:    h("v2 get_database", ActionGetDatabase, pathTenantDB),
		http.MethodDelete: h("v2 delete_database", ActionDeleteDatabase, pathTenantDB),
	}),
	route("/api/v2/tenants/{tenant}/databases/{database}/collections", map[string]handler{
		http.MethodGet:  h("v2 list_collections", ActionListCollections, pathTenantDB),
		http.MethodPost: h("v2 create_collection", ActionCreateCollection, createCollection),
	}),
	route("/api/v2/tenants/{tenant}/databases/{database}/collections_count",
		get("v2 count_collections", ActionCountCollections, pathTenantDB)),
	route("/api/v2/tenants/{tenant}/databases/{database}/collections/by-id/{collection_id}",
		get("v2 get_collection_by_id", ActionGetCollection, pathCollectionByID)),
	route(coll, map[string]handler{
		http.MethodGet:    h("v2 get_collection", ActionGetCollection, pathCollection),
		http.MethodPut:    h("v2 update_collection", ActionUpdateCollection, pathCollectionByID),
		http.MethodDelete: h("v2 delete_collection", ActionDeleteCollection, pathCollection),
	}),
	route(coll+"/fork", post("v2 fork_collection", ActionForkCollection, pathCollectionByID)),
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
	route(coll+"/conditional/commit", post("v2 conditional_commit", ActionUpdate, pathCollectionByID)),
	route(coll+"/functions/attach", post("v2 attach_function", ActionCreateAttachedFunction, pathCollectionByID)),
	route(coll+"/functions/{function_name}", get("v2 get_attached_function", ActionGetCollection, pathCollectionByID)),
	route(coll+"/attached_functions/{name}/detach", post("v2 detach_function", ActionRemoveAttachedFunction, pathCollectionByID)),
	route(coll+"/attached_functions/{name}/add_input", post("v2 add_attached_function_input", ActionCreateAttachedFunction, pathCollectionByID)),
	// Older 1.x releases detached by attached-function id, outside any
	// collection.
	route("/api/v2/tenants/{tenant}/databases/{database}/attached_functions/{id}/detach",
		post("v2 detach_function", ActionRemoveAttachedFunction, pathTenantDB)),
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
	route("/api/v1/tenants", post("v1 create_tenant", ActionCreateTenant, bodyName(0))),
	route("/api/v1/tenants/{tenant}", get("v1 get_tenant", ActionGetTenant, pathTenant)),
	route("/api/v1/databases", post("v1 create_database", ActionCreateDatabase, v1CreateDatabase)),
	route("/api/v1/databases/{database}", get("v1 get_database", ActionGetDatabase, v1GetDatabase)),
	route("/api/v1/collections", map[string]handler{
		http.MethodGet:  h("v1 list_collections", ActionListCollections, v1TenantDB),
		http.MethodPost: h("v1 create_collection", ActionCreateCollection, v1CreateCollection),
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
