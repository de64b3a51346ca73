package authz

// Chroma's authorization actions, as its RBAC files name them.
const (
	ActionReset = "system:reset"

	ActionCreateTenant = "tenant:create_tenant"
	ActionGetTenant    = "tenant:get_tenant"
	ActionUpdateTenant = "tenant:update_tenant"

	ActionCreateDatabase        = "db:create_database"
	ActionGetDatabase           = "db:get_database"
	ActionDeleteDatabase        = "db:delete_database"
	ActionListDatabases         = "db:list_databases"
	ActionListCollections       = "db:list_collections"
	ActionCountCollections      = "db:count_collections"
	ActionCreateCollection      = "db:create_collection"
	ActionGetOrCreateCollection = "db:get_or_create_collection"

	ActionGetCollection          = "collection:get_collection"
	ActionGetCollectionByCRN     = "collection:get_collection_by_crn"
	ActionUpdateCollection       = "collection:update_collection"
	ActionDeleteCollection       = "collection:delete_collection"
	ActionForkCollection         = "collection:fork_collection"
	ActionCountForks             = "collection:count_forks"
	ActionAdd                    = "collection:add"
	ActionDelete                 = "collection:delete"
	ActionGet                    = "collection:get"
	ActionQuery                  = "collection:query"
	ActionCount                  = "collection:count"
	ActionUpdate                 = "collection:update"
	ActionUpsert                 = "collection:upsert"
	ActionSearch                 = "collection:search"
	ActionCreateAttachedFunction = "collection:create_attached_function"
	ActionRemoveAttachedFunction = "collection:remove_attached_function"
)

// knownActions is every action Chroma (0.5 or 1.x) checks, plus
// "collection:peek", which Chroma 0.4 files may still list.
var knownActions = map[string]bool{
	ActionReset: true, ActionCreateTenant: true, ActionGetTenant: true,
	ActionUpdateTenant: true, ActionCreateDatabase: true, ActionGetDatabase: true,
	ActionDeleteDatabase: true, ActionListDatabases: true,
	ActionListCollections: true, ActionCountCollections: true,
	ActionCreateCollection: true, ActionGetOrCreateCollection: true,
	ActionGetCollection: true, ActionGetCollectionByCRN: true,
	ActionUpdateCollection: true, ActionDeleteCollection: true,
	ActionForkCollection: true, ActionCountForks: true, ActionAdd: true,
	ActionDelete: true, ActionGet: true, ActionQuery: true, ActionCount: true,
	ActionUpdate: true, ActionUpsert: true, ActionSearch: true,
	ActionCreateAttachedFunction: true, ActionRemoveAttachedFunction: true,
	"collection:peek": true,
}

// KnownAction reports whether Chroma checks the action a on some route.
func KnownAction(a string) bool { return knownActions[a] }
